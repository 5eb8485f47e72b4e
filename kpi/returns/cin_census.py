"""The Children in Need census as a source: its XML files (every XSD generation: `GenderCurrent` or `Sex`,
with or without namespaces), one census or several, read into the canonical tables of the front door
after the contact stage; and the demo council written out as the census. Reads no CSV form.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date, datetime
from pathlib import Path

from kpi.issues import Issue, KpiError, display_path

NAME = "cin-census"

GENDER = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
TRUE, FALSE = {"1", "TRUE", "Y", "YES"}, {"0", "FALSE", "N", "NO"}

GIVES = {
    "ssd_person": ("pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob", "pers_death_date"),
    "ssd_cin_episodes": ("cine_referral_id", "cine_person_id", "cine_referral_date", "cine_referral_source_code",
                         "cine_cin_primary_need_code", "cine_referral_nfa", "cine_close_date", "cine_close_reason",
                         "cine_outcome_assessment", "cine_outcome_strategy"),
    "ssd_cin_assessments": ("cina_assessment_id", "cina_person_id", "cina_referral_id", "cina_assessment_start_date",
                            "cina_assessment_auth_date"),
    "ssd_strategy_discussions": ("strd_strategy_id", "strd_person_id", "strd_referral_id", "strd_strategy_date", "strd_outcome_s47"),
    "ssd_s47_enquiry": ("s47e_s47_enquiry_id", "s47e_person_id", "s47e_referral_id", "s47e_strategy_id", "s47e_s47_start_date",
                        "s47e_s47_end_date", "s47e_s47_nfa"),
    "ssd_initial_cp_conference": ("icpc_icpc_id", "icpc_person_id", "icpc_s47_enquiry_id", "icpc_icpc_target_date", "icpc_icpc_date",
                                  "icpc_icpc_outcome_cp_flag", "icpc_cp_plan_id"),
    "ssd_cp_plans": ("cppl_cp_plan_id", "cppl_person_id", "cppl_icpc_id", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date",
                     "cppl_cp_plan_initial_category"),
    "ssd_cp_reviews": ("cppr_cp_review_id", "cppr_person_id", "cppr_cp_plan_id", "cppr_cp_review_date"),
}


class _Problems:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, file: str, where: str, message: str) -> None:
        self.issues.append(Issue("return-xml", f"{where}: {message}", file))


def read(path: Path) -> dict[str, list[dict]]:
    """The rows of the canonical tables from the census XML in `path` (a file, or a folder of them, one
    per year; a referral's latest census wins). Raises KpiError naming every problem."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml")
        if not files:
            raise KpiError(f"{display_path(path)} holds no XML files: give the folder of the CIN census files")
    else:
        files = [path]
    problems = _Problems()
    censuses = [c for c in (_read_file(f, problems) for f in files) if c is not None]
    if problems.issues:
        raise KpiError(f"the CIN census files in {display_path(path)} cannot be read", problems.issues[:50])
    censuses.sort(key=lambda c: c[0])
    people: dict[str, dict] = {}
    referrals: dict[str, dict] = {}
    for _, found_people, found_referrals in censuses:   # a later census's version of a referral wins
        for person, record in found_people.items():   # a later census's value, unless it is empty there
            earlier = people.get(person, {})
            people[person] = {k: v if v is not None else earlier.get(k) for k, v in record.items()}
        referrals.update(found_referrals)
    return _tables(people, referrals)


def _tag(element: ElementTree.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element, name: str) -> list:
    return [e for e in element if _tag(e) == name]


def _text(element, name: str) -> str:
    found = _children(element, name) if element is not None else []
    return (found[0].text or "").strip() if found else ""


def _read_file(path: Path, problems: _Problems):
    shown = display_path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        problems.add(shown, f"line {error.position[0]}", f"the file is not well-formed XML ({error})")
        return None
    except OSError as error:
        raise KpiError(f"cannot read {shown}: {error}") from None
    if _tag(root) != "Message":
        problems.add(shown, f"<{_tag(root)}>", "this is not a CIN census file: its root element is not <Message>")
        return None
    header = next(iter(_children(root, "Header")), None)
    details = next(iter(_children(header, "CollectionDetails")), None) if header is not None else None
    reference = _date(_text(details, "ReferenceDate"), shown, "Header/CollectionDetails", "ReferenceDate", problems, required=True)
    people, referrals = {}, {}
    for child in (c for children in _children(root, "Children") for c in _children(children, "Child")):
        ids = next(iter(_children(child, "ChildIdentifiers")), None)
        person = _text(ids, "LAchildID")
        if not person:
            problems.add(shown, "Children/Child", "LAchildID is missing or empty")
            continue
        where = f"Child {person}"
        sex = (_text(ids, "Sex") or _text(ids, "GenderCurrent")).upper()   # GenderCurrent to 2023/24, Sex from 2024/25
        if sex and sex not in GENDER:
            problems.add(shown, where, f"Sex/GenderCurrent {sex!r} is not a code of the census (1, 2, 0, 9 or M, F, U)")
        people[person] = {"pers_person_id": person, "pers_sex": GENDER.get(sex),
                          "pers_ethnicity": _text(next(iter(_children(child, "ChildCharacteristics")), None), "Ethnicity") or None,
                          "pers_dob": _date(_text(ids, "PersonBirthDate"), shown, where, "PersonBirthDate", problems),
                          "pers_death_date": _date(_text(ids, "PersonDeathDate"), shown, where, "PersonDeathDate", problems)}
        for block in _children(child, "CINdetails"):
            referred = _date(_text(block, "CINreferralDate"), shown, f"{where}/CINdetails", "CINreferralDate", problems, required=True)
            if referred is None:
                continue
            key = f"{person}|{referred.isoformat()}"
            if key in referrals:  # two referrals of one child on one day
                key += f"#{sum(k.split('#')[0] == key for k in referrals) + 1}"
            referrals[key] = _referral(block, key, person, shown, f"{where}/CINdetails {referred.isoformat()}", problems)
    return reference, people, referrals


def _date(value: str, file: str, where: str, name: str, problems: _Problems, required: bool = False) -> date | None:
    if not value:
        if required:
            problems.add(file, where, f"{name} is missing or empty")
        return None
    try:
        return date.fromisoformat(value[:10]) if len(value) in (10, 19) or "T" in value else date.fromisoformat(value)
    except ValueError:
        problems.add(file, where, f"{name} {value!r} is not a date in the form yyyy-mm-dd")
        return None


def _flag(value: str, file: str, where: str, name: str, problems: _Problems) -> bool | None:
    if not value:
        return None
    if value.upper() in TRUE | FALSE:
        return value.upper() in TRUE
    problems.add(file, where, f"{name} {value!r} is not a yes/no value (0, 1, true, false)")
    return None


def _referral(block, key: str, person: str, file: str, where: str, problems: _Problems) -> dict:
    """One CINdetails block: the referral and everything below it, keyed from their natural values."""
    def when(element, name, required=False):
        return _date(_text(element, name), file, where, name, problems, required)

    found = {"person": person, "key": key, "assessments": [], "s47s": [], "icpcs": [], "plans": [], "reviews": []}
    found["referral"] = {
        "cine_referral_id": key, "cine_person_id": person, "cine_referral_date": _midnight(when(block, "CINreferralDate")),
        "cine_referral_source_code": _text(block, "ReferralSource").upper() or None,
        "cine_cin_primary_need_code": _text(block, "PrimaryNeedCode").upper() or None,
        "cine_referral_nfa": _flag(_text(block, "ReferralNFA"), file, where, "ReferralNFA", problems),
        "cine_close_date": when(block, "CINclosureDate"), "cine_close_reason": _text(block, "ReasonForClosure").upper() or None,
        "cine_outcome_assessment": bool(_children(block, "Assessments")), "cine_outcome_strategy": bool(_children(block, "Section47")),
    }
    for assessment in _children(block, "Assessments"):
        start = when(assessment, "AssessmentActualStartDate", required=True)
        if start:
            found["assessments"].append({"cina_assessment_id": f"{key}|A|{start.isoformat()}", "cina_person_id": person,
                                         "cina_referral_id": key, "cina_assessment_start_date": start,
                                         "cina_assessment_auth_date": when(assessment, "AssessmentAuthorisationDate")})
    plans = []
    for plan in _children(block, "ChildProtectionPlans"):
        start = when(plan, "CPPstartDate", required=True)
        if start:
            plans.append({"cppl_cp_plan_id": f"{key}|CPP|{start.isoformat()}", "cppl_person_id": person, "cppl_cp_plan_start_date": start,
                          "cppl_cp_plan_end_date": when(plan, "CPPendDate"),
                          "cppl_cp_plan_initial_category": _text(plan, "InitialCategoryOfAbuse").upper() or None})
            for reviews in _children(plan, "Reviews"):
                for review in _children(reviews, "CPPreviewDate"):  # every date, not only the first
                    day = _date((review.text or "").strip(), file, where, "CPPreviewDate", problems)
                    if day:
                        found["reviews"].append({"cppr_cp_review_id": f"{plans[-1]['cppl_cp_plan_id']}|R|{day.isoformat()}",
                                                 "cppr_person_id": person, "cppr_cp_plan_id": plans[-1]["cppl_cp_plan_id"],
                                                 "cppr_cp_review_date": day})
    plan_on = {p["cppl_cp_plan_start_date"]: p["cppl_cp_plan_id"] for p in plans}

    def conference(day, s47_id, target):
        icpc_id = f"{key}|ICPC|{day.isoformat()}"
        found["icpcs"].append({"icpc_icpc_id": icpc_id, "icpc_person_id": person, "icpc_s47_enquiry_id": s47_id,
                               "icpc_icpc_target_date": target, "icpc_icpc_date": day,
                               "icpc_icpc_outcome_cp_flag": day in plan_on, "icpc_cp_plan_id": plan_on.get(day)})
        return icpc_id

    icpc_of = {}
    for s47 in _children(block, "Section47"):
        start = when(s47, "S47ActualStartDate", required=True)
        if not start:
            continue
        s47_id, strategy_id = f"{key}|S47|{start.isoformat()}", f"{key}|SD|{start.isoformat()}"
        icpc_day = when(s47, "DateOfInitialCPC")
        found["s47s"].append(({"strd_strategy_id": strategy_id, "strd_person_id": person, "strd_referral_id": key,
                               "strd_strategy_date": start, "strd_outcome_s47": True},
                              {"s47e_s47_enquiry_id": s47_id, "s47e_person_id": person, "s47e_referral_id": key,
                               "s47e_strategy_id": strategy_id, "s47e_s47_start_date": start, "s47e_s47_end_date": icpc_day,
                               "s47e_s47_nfa": _flag(_text(s47, "ICPCnotRequired"), file, where, "ICPCnotRequired", problems)}))
        if icpc_day:
            icpc_of[icpc_day] = conference(icpc_day, s47_id, when(s47, "InitialCPCtarget"))
    # an ICPC is recorded on its Section47 or on the CINdetails (one with no S47 in this census), never both
    day = when(block, "DateOfInitialCPC")
    if day and day not in icpc_of:
        icpc_of[day] = conference(day, None, None)
    for plan in plans:
        plan["cppl_icpc_id"] = icpc_of.get(plan["cppl_cp_plan_start_date"])
    found["plans"] = plans
    return found


def _tables(people: dict, referrals: dict) -> dict[str, list[dict]]:
    blocks = [referrals[k] for k in sorted(referrals)]
    return {
        "ssd_person": [people[p] for p in sorted(people)],
        "ssd_cin_episodes": [b["referral"] for b in blocks],
        "ssd_cin_assessments": [a for b in blocks for a in b["assessments"]],
        "ssd_strategy_discussions": [s for b in blocks for s, _ in b["s47s"]],
        "ssd_s47_enquiry": [e for b in blocks for _, e in b["s47s"]],
        "ssd_initial_cp_conference": [i for b in blocks for i in b["icpcs"]],
        "ssd_cp_plans": [p for b in blocks for p in b["plans"]],
        "ssd_cp_reviews": [r for b in blocks for r in b["reviews"]],
    }


def _midnight(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day else None


# The demo council written out as the census: one file per census year, as a council submits it.

def write(tables: dict, out: Path, first_year_end: date, last_year_end: date) -> list[Path]:
    """Write the canonical `tables` (polars frames) as census XML files `cin_census_YYYY.xml`, one per
    census year from the one ending `first_year_end` to `last_year_end` (the 2023/24 XSD: GenderCurrent)."""
    from kpi.atomic import write_atomically

    def rows(name):
        return list(tables[name].iter_rows(named=True))

    people = {r["pers_person_id"]: r for r in rows("ssd_person")}
    referrals = sorted(rows("ssd_cin_episodes"), key=lambda r: (r["cine_person_id"], r["cine_referral_date"]))
    by_referral: dict[str, dict[str, list]] = {}
    for name, column in (("ssd_cin_assessments", "cina_referral_id"), ("ssd_s47_enquiry", "s47e_referral_id")):
        for r in rows(name):
            by_referral.setdefault(r[column], {}).setdefault(name, []).append(r)
    icpcs = rows("ssd_initial_cp_conference")
    icpc_of_s47 = {r["icpc_s47_enquiry_id"]: r for r in icpcs if r["icpc_s47_enquiry_id"]}
    s47_referral = {r["s47e_s47_enquiry_id"]: r["s47e_referral_id"] for r in rows("ssd_s47_enquiry")}
    icpc_by_id = {r["icpc_icpc_id"]: r for r in icpcs}
    person_referrals: dict[str, list] = {}
    for r in referrals:
        person_referrals.setdefault(r["cine_person_id"], []).append(r)

    def referral_on(person, day):
        found = [r for r in person_referrals.get(person, ()) if r["cine_referral_date"].date() <= day]
        return found[-1]["cine_referral_id"] if found else None

    for icpc in icpcs:   # an ICPC with no S47 in the census (a transfer in) sits on the CINdetails
        if not icpc["icpc_s47_enquiry_id"]:
            ref = referral_on(icpc["icpc_person_id"], icpc["icpc_icpc_date"])
            by_referral.setdefault(ref, {}).setdefault("icpc", []).append(icpc)
    reviews: dict[str, list] = {}
    for r in rows("ssd_cp_reviews"):
        reviews.setdefault(r["cppr_cp_plan_id"], []).append(r)
    for plan in rows("ssd_cp_plans"):
        icpc = icpc_by_id.get(plan["cppl_icpc_id"])
        ref = s47_referral.get(icpc["icpc_s47_enquiry_id"]) if icpc and icpc["icpc_s47_enquiry_id"] else None
        ref = ref or referral_on(plan["cppl_person_id"], plan["cppl_cp_plan_start_date"])
        by_referral.setdefault(ref, {}).setdefault("plans", []).append(plan)

    def add(parent, name, value=None):
        element = ElementTree.SubElement(parent, name)
        if value is not None:
            element.text = value.isoformat() if isinstance(value, date) else str(value)
        return element

    def upto(day, end):
        return day if day is not None and day <= end else None

    written = []
    year_end = first_year_end
    while year_end <= last_year_end:
        start = date(year_end.year - 1, 4, 1)
        message = ElementTree.Element("Message")
        details = add(add(message, "Header"), "CollectionDetails")
        add(details, "Collection", "CIN")
        add(details, "Year", year_end.year)
        add(details, "ReferenceDate", year_end)
        children = add(message, "Children")
        open_referrals: dict[str, list] = {}
        for r in referrals:
            referred = r["cine_referral_date"].date()
            if referred <= year_end and (r["cine_close_date"] is None or r["cine_close_date"] >= start):
                open_referrals.setdefault(r["cine_person_id"], []).append(r)
        for person, mine in sorted(open_referrals.items()):
            child = add(children, "Child")
            ids = add(child, "ChildIdentifiers")
            add(ids, "LAchildID", person)
            add(ids, "PersonBirthDate", people[person]["pers_dob"])
            add(ids, "GenderCurrent", {"M": "1", "F": "2"}.get(people[person]["pers_sex"], "0"))
            add(add(child, "ChildCharacteristics"), "Ethnicity", people[person]["pers_ethnicity"])
            for r in mine:
                block = add(child, "CINdetails")
                add(block, "CINreferralDate", r["cine_referral_date"].date())
                add(block, "ReferralSource", r["cine_referral_source_code"])
                add(block, "PrimaryNeedCode", r["cine_cin_primary_need_code"])
                if upto(r["cine_close_date"], year_end):
                    add(block, "CINclosureDate", r["cine_close_date"])
                    add(block, "ReasonForClosure", r["cine_close_reason"])
                linked = by_referral.get(r["cine_referral_id"], {})
                for icpc in linked.get("icpc", ()):
                    if upto(icpc["icpc_icpc_date"], year_end):
                        add(block, "DateOfInitialCPC", icpc["icpc_icpc_date"])
                add(block, "ReferralNFA", "1" if r["cine_referral_nfa"] else "0")
                for a in linked.get("ssd_cin_assessments", ()):
                    if a["cina_assessment_start_date"] and a["cina_assessment_start_date"] <= year_end:
                        element = add(block, "Assessments")
                        add(element, "AssessmentActualStartDate", a["cina_assessment_start_date"])
                        if upto(a["cina_assessment_auth_date"], year_end):
                            add(element, "AssessmentAuthorisationDate", a["cina_assessment_auth_date"])
                for e in linked.get("ssd_s47_enquiry", ()):
                    if e["s47e_s47_start_date"] and e["s47e_s47_start_date"] <= year_end:
                        element = add(block, "Section47")
                        add(element, "S47ActualStartDate", e["s47e_s47_start_date"])
                        icpc = icpc_of_s47.get(e["s47e_s47_enquiry_id"])
                        if icpc and icpc["icpc_icpc_target_date"]:
                            add(element, "InitialCPCtarget", icpc["icpc_icpc_target_date"])
                        if icpc and upto(icpc["icpc_icpc_date"], year_end):
                            add(element, "DateOfInitialCPC", icpc["icpc_icpc_date"])
                        add(element, "ICPCnotRequired", "true" if e["s47e_s47_nfa"] else "false")
                for plan in linked.get("plans", ()):
                    if plan["cppl_cp_plan_start_date"] <= year_end:
                        element = add(block, "ChildProtectionPlans")
                        add(element, "CPPstartDate", plan["cppl_cp_plan_start_date"])
                        if upto(plan["cppl_cp_plan_end_date"], year_end):
                            add(element, "CPPendDate", plan["cppl_cp_plan_end_date"])
                        add(element, "InitialCategoryOfAbuse", plan["cppl_cp_plan_initial_category"])
                        dates = sorted(v["cppr_cp_review_date"] for v in reviews.get(plan["cppl_cp_plan_id"], ())
                                       if v["cppr_cp_review_date"] and v["cppr_cp_review_date"] <= year_end)
                        if dates:
                            group = add(element, "Reviews")
                            for day in dates:
                                add(group, "CPPreviewDate", day)
        target = Path(out) / f"cin_census_{year_end.year}.xml"
        tree = ElementTree.ElementTree(message)
        ElementTree.indent(tree)
        write_atomically(target, lambda p, t=tree: t.write(p, encoding="utf-8", xml_declaration=True))
        written.append(target)
        year_end = date(year_end.year + 1, 3, 31)
    return written


def write_demo(tables: dict, out: Path) -> list[Path]:
    """The demo council as the return: every collection year of its history (2014/15 to 2017/18)."""
    from kpi.demo import EXTRACT_DATE, HISTORY_START
    from kpi.returns.common import march_31_ending

    return write(tables, out, march_31_ending(HISTORY_START), march_31_ending(EXTRACT_DATE))
