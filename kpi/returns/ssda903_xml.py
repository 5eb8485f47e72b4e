"""The SSDA903 return's XML form (the DfE's `EXPSSDA903` file, CLA.xsd): one file per collection year, a
`CHILD` per child holding its `HEADER` (with the child's reviews, missing episodes and OC2 nested in it,
and the OC3 fields) and its `EPISODE`s. Read into the same text rows as the return's CSV files, by table,
so that everything after (keys, years, periods of care) is the CSV form's; element names are the CSV's
columns but `CHILDID` (CHILD) and `PL` (PLACE). Namespaces are ignored; line numbers are kept for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from kpi.returns.common import Problems, Rows

ROOT = "EXPSSDA903"
RENAMED = {"CHILDID": "CHILD", "PL": "PLACE"}
# The groups nested in HEADER, and the CSV table each is a row of (the others are not read by kpi).
IN_HEADER = {"AREVIEW": "reviews", "AMISSING": "missing", "OC2": "oc2"}
# The columns of each table, as the CSV files have them (the child's DOB repeated, as there).
COLUMNS = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE",
                 "HOME_POST", "PL_POST", "URN"),
    "reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "oc2": ("CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK",
            "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"),
    "oc3": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
}


@dataclass
class _Element:
    name: str  # without its namespace
    line: int
    children: list["_Element"] = field(default_factory=list)
    text: str = ""

    def fields(self) -> dict[str, str]:
        """The element's leaf children by (CSV) name: `<DECOM>01/04/2017</DECOM>` → DECOM."""
        return {RENAMED.get(c.name, c.name): c.text.strip() for c in self.children if not c.children}


def is_xml(path: Path) -> bool:
    return path.suffix.lower() == ".xml"


def read_xml(path: Path, problems: Problems) -> dict[str, Rows]:
    """One year of the return from its XML file, as the CSV form's tables of text rows (each row's line
    the line of its element). Problems (not XML, not the return, a missing element) name the file,
    the line and the element."""
    shown = Rows(path, [], []).shown
    root = _parse(path, shown, problems)
    if root is None:
        return {}
    if root.name != ROOT:
        problems.add("return-xml", f"this is not an SSDA903 XML file: its root element is <{root.name}>, not <{ROOT}>", shown, root.line)
        return {}
    tables = {kind: Rows(path, list(columns), []) for kind, columns in COLUMNS.items()}
    for child in root.children:
        if child.name != "CHILD":
            problems.add("return-xml", f"<{child.name}> inside <{ROOT}>, where only <CHILD> elements belong", shown, child.line)
            continue
        header = next((e for e in child.children if e.name == "HEADER"), None)
        if header is None:
            problems.add("return-xml", "a <CHILD> without its <HEADER> element", shown, child.line)
            continue
        person = header.fields()
        if "CHILD" not in person:
            problems.add("return-xml", "a <HEADER> without its <CHILDID> element", shown, header.line)
            continue
        ids = {"CHILD": person["CHILD"], "DOB": person.get("DOB", "")}
        tables["header"].rows.append((header.line, person))
        if "IN_TOUCH" in person:
            tables["oc3"].rows.append((header.line, ids | {c: person.get(c, "") for c in ("IN_TOUCH", "ACTIV", "ACCOM")}))
        for group in header.children:
            if group.name in IN_HEADER:
                tables[IN_HEADER[group.name]].rows.append((group.line, ids | group.fields()))
        for episode in child.children:
            if episode.name == "EPISODE":
                tables["episodes"].rows.append((episode.line, {"CHILD": person["CHILD"]} | episode.fields()))
    return {kind: rows for kind, rows in tables.items() if rows.rows or kind in ("header", "episodes")}


def _parse(path: Path, shown: str, problems: Problems) -> _Element | None:
    """The file's elements with their line numbers, namespaces dropped; None (a problem added) if it is not XML."""
    parser = expat.ParserCreate(namespace_separator=" ")
    top = _Element("", 0)
    stack = [top]

    def start(name: str, _attributes) -> None:
        element = _Element(name.rsplit(" ", 1)[-1], parser.CurrentLineNumber)
        stack[-1].children.append(element)
        stack.append(element)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        stack[-1].text += data

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with open(path, "rb") as handle:
            parser.ParseFile(handle)
    except expat.ExpatError as error:
        problems.add("return-xml", f"this is not well-formed XML: {expat.errors.messages[error.code]} "
                     "(an SSDA903 XML file is the DfE's EXPSSDA903 export)", shown, error.lineno)
        return None
    except OSError as error:
        problems.add("return-xml", f"cannot be read: {error}", shown)
        return None
    return top.children[0] if top.children else None
