"""The project: where its definitions live, and its configuration (`kpi.toml`, SPEC §12).

Reads files; decides nothing about indicators. Every configuration key is optional.
"""

from __future__ import annotations

import tomllib
import codecs
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping
from pathlib import Path

from kpi.issues import KpiError, display_path

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DataEntry:
    """One `[[data]]` entry of kpi.toml: the files at `path` read through the source `source`; `tables`,
    when given, the canonical tables this entry supplies (else every table its files hold)."""

    number: int  # its place in kpi.toml's list, from 1
    source: str
    path: Path
    tables: tuple[str, ...] | None = None

    def to_dict(self) -> dict:
        """The entry as the provenance records it (for `kpi compute --reproduce`)."""
        return {"source": self.source, "path": str(self.path), "tables": list(self.tables) if self.tables is not None else None}

    @property
    def label(self) -> str:
        """The entry as messages name it: `kpi.toml [[data]] entry 2 (source cin-census, path cin)`."""
        return f"kpi.toml [[data]] entry {self.number} (source {self.source}, path {display_path(self.path)})"


@dataclass(frozen=True)
class Config:
    """The settings of one council's project."""

    authority_name: str | None = None
    authority_code: str | None = None
    region_name: str | None = None
    fy_start_month: int = 4
    closure_days: tuple[date, ...] = ()
    suppress_below: int | None = None
    disclosure_policy: str = "safe"  # trend and status next to a withheld value: safe | seed (docs/rules.md)
    round_to: int | None = None  # published counts rounded to the nearest multiple of this
    # A breakdown's groups (a team, an ethnicity) are small far more often than a council's totals, and a
    # group of 1 to 4 children can name them: withheld below this unless suppress_below says otherwise.
    breakdown_suppress_below: int = 5
    data: Path | str | None = None  # a folder or file, or a database URL (text)
    data_entries: tuple[DataEntry, ...] = ()  # [[data]]: several sources, each supplying its tables
    query_time_limit: float = 600.0  # seconds one indicator query may run before it is stopped
    source: str | None = None  # the source profile the extracts are read with (profiles/*.yaml)
    profile: dict | None = field(default=None, hash=False, compare=False)  # [profile]: overrides of it
    extract_date: date | None = None  # the day the extract was taken (default: the latest date in it)
    two_digit_year_pivot: int | None = None  # `11/06/12` is refused unless set: yy below it is 20yy
    reference_match_min: float = 0.99  # the share of a reference's values that must be found in its target
    encoding: Mapping[str, str] = field(default_factory=dict)  # a CSV's encoding by table, when not found
    # A council's project holds its own indicators; the 51 bundled ones join them only when asked for.
    include_bundled_indicators: bool = False
    sql_dialect: str = "duckdb"  # the dialect the project's indicator SQL is written in (duckdb | tsql)


_DATABASE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # as database_source.is_database_url

# key → (expected Python type(s), what to write)
_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "authority_name": ((str,), "a text, e.g. \"Northtown\""),
    "authority_code": ((str,), "a text, e.g. \"E06000047\""),
    "region_name": ((str,), "a text, e.g. \"North East\""),
    "fy_start_month": ((int,), "a month number from 1 to 12 (4 = April)"),
    "closure_days": ((list,), "a list of dates, e.g. [2017-12-27, 2017-12-28]"),
    "suppress_below": ((int,), "a whole number, e.g. 5"),
    "disclosure_policy": ((str,), "\"safe\" or \"seed\""),
    "round_to": ((int,), "a whole number above 0, e.g. 5"),
    "breakdown_suppress_below": ((int,), "a whole number, e.g. 5 (0: breakdowns withheld only by suppress_below)"),
    "data": ((str, list), "a folder, e.g. \"extracts/\", or a database URL, e.g. \"postgresql://kpi@reporting/ssd?schema=ssd_development\", "
             "or a list of [[data]] entries, each with `source` and `path`"),
    "query_time_limit": ((int, float), "a number of seconds, e.g. 600"),
    "source": ((str,), "a source profile's name, e.g. \"ssd-systemc\" (`kpi sources` lists them)"),
    "profile": ((dict,), "a table of overrides of the source profile, e.g. [profile.value_maps.ssd_legal_status.lega_legal_status]"),
    "extract_date": ((date,), "a date, unquoted, e.g. 2018-03-31"),
    "two_digit_year_pivot": ((int,), "a whole number from 0 to 100, e.g. 50 (00-49 are 2000-2049, 50-99 are 1950-1999)"),
    "reference_match_min": ((int, float), "a share from 0 to 1, e.g. 0.99"),
    "encoding": ((dict,), "a table of encodings by extract table, e.g. [encoding] with ssd_contacts = \"cp1252\""),
    "include_bundled_indicators": ((bool,), "true or false"),
    "sql_dialect": ((str,), "\"duckdb\" or \"tsql\" (SQL Server)"),
}

SQL_DIALECTS = ("duckdb", "tsql")


@dataclass(frozen=True)
class Project:
    """A folder holding indicators/, queries/, schemas/ and an optional kpi.toml.

    A council's project is layered over the bundled definitions (load.py): its indicators (by id) and
    its views and macros (by name) replace the bundled ones of the same id or name.
    """

    root: Path
    config: Config = field(default_factory=Config)

    @property
    def indicators_dir(self) -> Path:
        return self.root / "indicators"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def is_bundled(self) -> bool:
        """True when this project is the engine's own definitions (nothing to layer them over)."""
        return self.root.resolve() == bundled_root().resolve()

    @property
    def bundled_indicators_dir(self) -> Path | None:
        """The bundled indicators/ layered under the project's, or None when the project does not ask for them."""
        if self.is_bundled or not self.config.include_bundled_indicators:
            return None
        return bundled_root() / "indicators"

    @property
    def bundled_queries_dir(self) -> Path | None:
        """The bundled queries/ layered under the project's: always, so every project finds the shared views."""
        return None if self.is_bundled else bundled_root() / "queries"

    @property
    def templates_dir(self) -> Path:
        """The project's own report templates (templates/scorecard.html.j2), if it has any."""
        return self.root / "templates"

    @property
    def schemas_dir(self) -> Path:
        # A council's project may carry its own schemas/; otherwise the engine's are used.
        own = self.root / "schemas"
        return own if (own / "extracts.yaml").exists() else bundled_root() / "schemas"


def bundled_root() -> Path:
    """The definitions installed with the package (or the source checkout, in development)."""
    installed = PACKAGE_DIR / "_project"
    return installed if (installed / "indicators").is_dir() else PACKAGE_DIR.parent


def is_project_folder(folder: Path) -> bool:
    """A folder holding indicators/ or kpi.toml (a new project's indicators/ may be empty, so absent from git)."""
    return (folder / "indicators").is_dir() or (folder / "kpi.toml").is_file()


def open_project(root: Path | None = None) -> Project:
    """The project at `root`; by default the current folder when it is a project, else the bundled one."""
    if root is None:
        root = Path.cwd() if is_project_folder(Path.cwd()) else bundled_root()
    root = Path(root)
    if not is_project_folder(root):
        raise KpiError(
            f"{display_path(root)} holds no indicators/ folder and no kpi.toml: point --project at the folder "
            "that holds them, or make one with `kpi init`"
        )
    return Project(root=root, config=read_config(root / "kpi.toml"))


def read_config(path: Path) -> Config:
    """Read kpi.toml; a missing file means the defaults. Unknown keys and wrong types are errors."""
    if not path.exists():
        return Config()
    shown = display_path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise KpiError(f"{shown}: cannot be read as TOML: {error}") from None
    problems = []
    values: dict[str, object] = {}
    for key, value in raw.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            problems.append(f"{shown}: unknown key `{key}`: the keys are {known}")
            continue
        types, expected = _KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types) or (isinstance(value, datetime) and datetime not in types):
            problems.append(f"{shown}: `{key}` must be {expected}, not {value!r}")
            continue
        values[key] = value
    month = values.get("fy_start_month")
    if month is not None and not 1 <= month <= 12:
        problems.append(f"{shown}: `fy_start_month` must be {_KEYS['fy_start_month'][1]}, not {month!r}")
    dialect = values.get("sql_dialect")
    if dialect is not None and dialect not in SQL_DIALECTS:
        problems.append(f"{shown}: `sql_dialect` must be {_KEYS['sql_dialect'][1]}, not {dialect!r}")
    if values.get("disclosure_policy", "safe") not in ("safe", "seed"):
        problems.append(f"{shown}: `disclosure_policy` must be {_KEYS['disclosure_policy'][1]}, not {values['disclosure_policy']!r}")
    if values.get("breakdown_suppress_below", 0) < 0:
        problems.append(f"{shown}: `breakdown_suppress_below` must be {_KEYS['breakdown_suppress_below'][1]}, not {values['breakdown_suppress_below']!r}")
    if values.get("round_to", 1) < 1:
        problems.append(f"{shown}: `round_to` must be {_KEYS['round_to'][1]}, not {values['round_to']!r}")
    closure = values.get("closure_days", [])
    if any(not isinstance(day, date) for day in closure):
        problems.append(f"{shown}: `closure_days` must be {_KEYS['closure_days'][1]} (dates unquoted)")
    problems += _range_problems(values, shown)
    if problems:
        raise KpiError("\n".join(problems))
    if "closure_days" in values:
        values["closure_days"] = tuple(closure)
    if isinstance(values.get("data"), list):
        values["data_entries"], problems = _data_entries(values.pop("data"), path, shown)
        if problems:
            raise KpiError("\n".join(problems))
    if "data" in values and not _DATABASE_URL.match(str(values["data"])):  # a database URL stays as written
        values["data"] = (path.parent / str(values["data"])).resolve()
    return Config(**values)


_ENTRY_KEYS = ("source", "path", "tables")


def _data_entries(items: list, path: Path, shown: str) -> tuple[tuple[DataEntry, ...], list[str]]:
    """kpi.toml's `[[data]]` list as entries, their paths relative to kpi.toml, and the problems, each
    naming the entry."""
    entries, problems = [], []
    for number, item in enumerate(items, start=1):
        where = f"{shown}: [[data]] entry {number}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a table with `source` and `path` (write it as [[data]] with source = ... and path = ...), not {item!r}")
            continue
        unknown = [k for k in item if k not in _ENTRY_KEYS]
        if unknown:
            problems.append(f"{where}: unknown key `{unknown[0]}`: an entry takes source, path and tables")
        source, folder, tables = item.get("source"), item.get("path"), item.get("tables")
        if not isinstance(source, str) or not source:
            problems.append(f"{where} has no `source`: say how its files are read, e.g. source = \"ssda903\" (`kpi sources` lists them)")
        if not isinstance(folder, str) or not folder:
            problems.append(f"{where} has no `path`: give the folder or file it reads, e.g. path = \"returns/903\"")
        elif _DATABASE_URL.match(folder):
            problems.append(f"{where}: `path` is a database URL; a [[data]] entry reads files: give the database as the one `data = \"...\"`")
        if tables is not None and (not isinstance(tables, list) or not tables or not all(isinstance(t, str) and t for t in tables)):
            problems.append(f"{where}: `tables` must be a list of canonical table names, e.g. tables = [\"ssd_contacts\"], not {tables!r}")
        if not problems:
            entries.append(DataEntry(number, source, (path.parent / folder).resolve(), tuple(tables) if tables is not None else None))
    return tuple(entries), problems


def _range_problems(values: dict[str, object], shown: str) -> list[str]:
    """Values of the right type that are still not usable (a pivot of 120, an unknown encoding)."""
    problems = []
    pivot = values.get("two_digit_year_pivot")
    if pivot is not None and not 0 <= pivot <= 100:
        problems.append(f"{shown}: `two_digit_year_pivot` must be {_KEYS['two_digit_year_pivot'][1]}, not {pivot!r}")
    share = values.get("reference_match_min")
    if share is not None and not 0 <= share <= 1:
        problems.append(f"{shown}: `reference_match_min` must be {_KEYS['reference_match_min'][1]}, not {share!r}")
    for table, name in dict(values.get("encoding") or {}).items():
        try:
            known = isinstance(name, str) and codecs.lookup(name)
        except LookupError:
            known = False
        if not known:
            problems.append(f"{shown}: `encoding.{table}` is {name!r}, which is not an encoding Python knows: write e.g. \"utf-8\", \"cp1252\" or \"utf-16\"")
    return problems
