"""Ofsted's Annex A as a source: the workbook's lists (Ofsted's template with a title row above the header,
or LIIA-style sheets with the header first; `b) Female`-style code text; Excel dates, serials or text)
read into the canonical tables as at the extract date; and the demo council written out as Annex A.
Reads Lists 1 and 3 to 8; early help (List 2), care leavers (9) and adoption (10, 11) are not read.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from kpi.issues import Issue, KpiError, display_path

NAME = "annex-a"

# Each list is found by its headers (never its sheet name): the one header only it has.
LISTS = {
    "contacts": "date of contact",
    "referrals": "date of referral",
    "assessments": "continuous assessment start date",
    "s47": "strategy discussion initiating section 47 enquiry start date",
    "cin": "cin start date",
    "cp": "child protection plan start date",
    "cla": "date started to be looked after",
}
HEADER_ROWS = 6  # the header is looked for in the first rows (Ofsted's template has a title row above it)
EXCEL_EPOCH = date(1899, 12, 30)

GIVES = {
    "ssd_person": ("pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob"),
    "ssd_contacts": ("cont_contact_id", "cont_person_id", "cont_contact_date", "cont_contact_source_code"),
    "ssd_cin_episodes": ("cine_referral_id", "cine_person_id", "cine_referral_date", "cine_referral_source_code",
                         "cine_cin_primary_need_code", "cine_referral_nfa", "cine_close_date", "cine_close_reason",
                         "cine_referral_team", "cine_referral_worker_id"),
    "ssd_cin_assessments": ("cina_assessment_id", "cina_person_id", "cina_referral_id", "cina_assessment_start_date",
                            "cina_assessment_auth_date", "cina_assessment_child_seen", "cina_assessment_outcome_nfa"),
    "ssd_strategy_discussions": ("strd_strategy_id", "strd_person_id", "strd_referral_id", "strd_strategy_date", "strd_outcome_s47"),
    "ssd_s47_enquiry": ("s47e_s47_enquiry_id", "s47e_person_id", "s47e_referral_id", "s47e_strategy_id", "s47e_s47_start_date",
                        "s47e_s47_nfa"),
    "ssd_initial_cp_conference": ("icpc_icpc_id", "icpc_person_id", "icpc_s47_enquiry_id", "icpc_icpc_date",
                                  "icpc_icpc_outcome_cp_flag", "icpc_cp_plan_id"),
    "ssd_cp_plans": ("cppl_cp_plan_id", "cppl_person_id", "cppl_icpc_id", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date",
                     "cppl_cp_plan_initial_category"),
    "ssd_cla_episodes": ("clae_cla_episode_id", "clae_person_id", "clae_cla_id", "clae_cla_episode_start_date",
                         "clae_cla_episode_start_reason", "clae_cla_episode_ceased_date", "clae_cla_episode_ceased_reason",
                         "clae_entered_care_date", "clae_cla_placement_id"),
    "ssd_cla_placement": ("clap_cla_placement_id", "clap_person_id", "clap_cla_id", "clap_cla_placement_start_date",
                          "clap_cla_placement_end_date", "clap_cla_placement_type", "clap_cla_placement_provider",
                          "clap_cla_placement_postcode"),
    "ssd_legal_status": ("lega_legal_status_id", "lega_person_id", "lega_legal_status", "lega_legal_status_start_date",
                         "lega_legal_status_end_date"),
}
MAY_BE_ABSENT = tuple(GIVES)[1:]  # a workbook may lack any list

_CODE = re.compile(r"^\s*(?:[a-z]{1,2}\)\s*)?(?:[a-z]\.)?([A-Za-z0-9]{1,6})\s*(?::|-|–|\s|$)")


def _normal(header: str) -> str:
    text = str(header or "").replace("\u2019", "'").replace("\u00a0", " ").lower()
    return " ".join(text.split()).rstrip("? ").strip()


class _Sheet:
    def __init__(self, file: str, name: str, header_row: int, columns: list[str], rows: list[tuple[int, dict]]):
        self.file, self.name, self.header_row, self.columns, self.rows = file, name, header_row, columns, rows

    def where(self, row: int, column: str) -> str:
        return f"sheet {self.name}, row {row}, column {column!r}"


def read(path: Path) -> dict[str, list[dict]]:
    """The rows of the canonical tables from the Annex A workbook at `path` (a file, or a folder holding
    one). Raises KpiError naming every problem (sheet, row, column and value)."""
    path = Path(path)
    if path.is_dir():
        books = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xlsx" and not p.name.startswith("~$"))
        if len(books) != 1:
            raise KpiError(f"{display_path(path)} holds {len(books)} workbooks (.xlsx): give the folder holding the one Annex A workbook")
        path = books[0]
    sheets = _sheets(path)
    if not sheets:
        raise KpiError(f"{display_path(path)}: no sheet is a list of Annex A (none has a 'Child Unique ID' header beside "
                       f"one of: {', '.join(repr(h) for h in LISTS.values())})")
    issues: list[Issue] = []
    tables = _tables(sheets, issues)
    if issues:
        raise KpiError(f"the Annex A workbook {display_path(path)} cannot be read", issues[:50])
    return tables


def _sheets(path: Path) -> dict[str, _Sheet]:
    import polars as pl

    shown = display_path(path)
    try:
        frames = pl.read_excel(path, sheet_id=0, has_header=False, infer_schema_length=0, raise_if_empty=False)
    except Exception as error:  # fastexcel's errors have no common base class
        raise KpiError(f"cannot read {shown} as an Excel workbook: {str(error).splitlines()[0]}") from None
    found: dict[str, _Sheet] = {}
    for name, frame in frames.items():
        cells = frame.rows()
        for index, row in enumerate(cells[:HEADER_ROWS]):
            headers = [_normal(c) for c in row]
            if "child unique id" not in headers:
                continue
            kind = next((k for k, h in LISTS.items() if h in headers), None)
            if kind is None:
                break
            if kind in found:
                raise KpiError(f"{shown}: sheets {found[kind].name} and {name} both hold the {kind} list: keep one")
            rows = [(number, {h: (str(v).strip() if v is not None else "") for h, v in zip(headers, values) if h})
                    for number, values in enumerate(cells[index + 1:], start=index + 2)
                    if any(v is not None and str(v).strip() for v in values)]
            found[kind] = _Sheet(shown, name, index + 1, headers, rows)
            break
    return found


class _Reader:
    """Values of one sheet's rows, each problem an Issue naming the sheet, row, column and value."""

    def __init__(self, sheet: _Sheet, issues: list[Issue]):
        self.sheet, self.issues = sheet, issues

    def problem(self, row: int, column: str, message: str) -> None:
        self.issues.append(Issue("return-annex-a", f"{self.sheet.where(row, column)}: {message}", self.sheet.file))

    def date(self, values: dict, row: int, column: str, required: bool = False) -> date | None:
        value = values.get(column, "")
        if not value:
            if required:
                self.problem(row, column, "is empty, and every row needs it")
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00(\.0+)?)?", value):
                return date.fromisoformat(value[:10])
            if re.fullmatch(r"\d+(\.0+)?", value):           # an Excel serial day number
                return EXCEL_EPOCH + timedelta(days=int(float(value)))
            found = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d+)", value)
            if found:
                if len(found[3]) != 4:
                    self.problem(row, column, f"{value!r} has a {len(found[3])}-digit year: write the year in full")
                    return None
                return date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            pass
        self.problem(row, column, f"{value!r} is not a date")
        return None

    def code(self, values: dict, column: str) -> str | None:
        """The code in Ofsted's `x) CODE: label` text (also `CODE - label`, `CODE label` or the code alone)."""
        value = values.get(column, "")
        found = _CODE.match(value) if value else None
        return found[1].upper() if found else (value.upper() or None)

    def flag(self, values: dict, row: int, column: str) -> bool | None:
        value = _normal(values.get(column, ""))
        value = re.sub(r"^[a-z]\)\s*", "", value)
        if not value or value in ("unknown", "not known", "#n/a"):
            return None
        if value in ("yes", "y", "1", "true"):
            return True
        if value in ("no", "n", "0", "false"):
            return False
        self.problem(row, column, f"{values.get(column)!r} is not yes or no")
        return None


def _sex(text: str) -> str | None:
    value = re.sub(r"^[a-z]\)\s*", "", _normal(text))
    return {"male": "M", "m": "M", "1": "M", "female": "F", "f": "F", "2": "F"}.get(value, "U" if value else None)


def _id(text: str) -> str:
    text = str(text).strip()
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def _tables(sheets: dict[str, _Sheet], issues: list[Issue]) -> dict[str, list[dict]]:
    people: dict[str, dict] = {}
    out: dict[str, list[dict]] = {}
    readers = {kind: _Reader(sheet, issues) for kind, sheet in sheets.items()}

    def each(kind):
        if kind not in sheets:
            return
        reader = readers[kind]
        for row, values in sheets[kind].rows:
            child = _id(values.get("child unique id", ""))
            if not child:
                reader.problem(row, "Child Unique ID", "is empty")
                continue
            person = people.setdefault(child, {"pers_person_id": child})
            for column, value in (("pers_sex", _sex(values.get("gender", ""))), ("pers_ethnicity", reader.code(values, "ethnicity")),
                                  ("pers_dob", reader.date(values, row, "date of birth"))):
                if value is not None:
                    person[column] = value
            yield reader, row, values, child

    def unique(rows: list[dict], key: str) -> list[dict]:
        seen: dict[str, int] = {}
        for r in rows:
            base = r[key]
            seen[base] = seen.get(base, 0) + 1
            if seen[base] > 1:
                r[key] = f"{base}#{seen[base]}"
        return rows

    if "contacts" in sheets:
        rows = []
        for reader, row, values, child in each("contacts"):
            day = reader.date(values, row, "date of contact", required=True)
            if day:
                rows.append({"cont_contact_id": f"{child}|{day.isoformat()}", "cont_person_id": child,
                             "cont_contact_date": datetime(day.year, day.month, day.day),
                             "cont_contact_source_code": reader.code(values, "contact source")})
        out["ssd_contacts"] = unique(rows, "cont_contact_id")
    closures = {}
    for reader, row, values, child in each("cin"):
        start = reader.date(values, row, "cin start date", required=True)
        if start:
            closures[(child, start)] = (reader.date(values, row, "cin closure date"), reader.code(values, "reason for closure"),
                                        reader.code(values, "primary need code"))
    referrals: dict[str, list] = {}
    if "referrals" in sheets:
        rows = []
        for reader, row, values, child in each("referrals"):
            day = reader.date(values, row, "date of referral", required=True)
            if day:
                close, reason, need = closures.get((child, day), (None, None, None))
                rows.append({"cine_referral_id": f"{child}|{day.isoformat()}", "cine_person_id": child,
                             "cine_referral_date": datetime(day.year, day.month, day.day),
                             "cine_referral_source_code": reader.code(values, "referral source"),
                             "cine_cin_primary_need_code": need,
                             "cine_referral_nfa": reader.flag(values, row, "referral nfa"), "cine_close_date": close,
                             "cine_close_reason": reason, "cine_referral_team": values.get("allocated team") or None,
                             "cine_referral_worker_id": values.get("allocated worker") or None})
        out["ssd_cin_episodes"] = unique(rows, "cine_referral_id")
        for r in out["ssd_cin_episodes"]:
            referrals.setdefault(r["cine_person_id"], []).append((r["cine_referral_date"].date(), r["cine_referral_id"]))

    def referral_on(child, day):
        found = sorted(r for r in referrals.get(child, ()) if r[0] <= day)
        return found[-1][1] if found else None

    if "assessments" in sheets:
        rows = []
        for reader, row, values, child in each("assessments"):
            start = reader.date(values, row, "continuous assessment start date", required=True)
            if start:
                support = reader.flag(values, row, "was the child assessed as requiring la children's social care support")
                rows.append({"cina_assessment_id": f"{child}|A|{start.isoformat()}", "cina_person_id": child,
                             "cina_referral_id": referral_on(child, start), "cina_assessment_start_date": start,
                             "cina_assessment_auth_date": reader.date(values, row, "continuous assessment date of authorisation"),
                             "cina_assessment_child_seen": reader.flag(values, row, "child seen during continuous assessment"),
                             "cina_assessment_outcome_nfa": None if support is None else not support})
        out["ssd_cin_assessments"] = unique(rows, "cina_assessment_id")
    conferences: dict[tuple, dict] = {}
    if "s47" in sheets:
        strategies, enquiries = [], []
        for reader, row, values, child in each("s47"):
            start = reader.date(values, row, LISTS["s47"], required=True)
            if not start:
                continue
            key = f"{child}|{start.isoformat()}"
            strategies.append({"strd_strategy_id": f"{key}|SD", "strd_person_id": child, "strd_referral_id": referral_on(child, start),
                               "strd_strategy_date": start, "strd_outcome_s47": True})
            enquiries.append({"s47e_s47_enquiry_id": f"{key}|S47", "s47e_person_id": child, "s47e_referral_id": referral_on(child, start),
                              "s47e_strategy_id": f"{key}|SD", "s47e_s47_start_date": start,
                              "s47e_s47_nfa": reader.flag(values, row, "was an initial child protection conference deemed unnecessary")})
            day = reader.date(values, row, "date of initial child protection conference")
            if day:
                conferences[(child, day)] = {
                    "icpc_icpc_id": f"{child}|ICPC|{day.isoformat()}", "icpc_person_id": child, "icpc_s47_enquiry_id": f"{key}|S47",
                    "icpc_icpc_date": day, "icpc_cp_plan_id": None,
                    "icpc_icpc_outcome_cp_flag": reader.flag(values, row, "did the initial child protection conference result in a child protection plan")}
        out["ssd_strategy_discussions"], out["ssd_s47_enquiry"] = strategies, enquiries
    if "cp" in sheets:
        rows = []
        for reader, row, values, child in each("cp"):
            start = reader.date(values, row, LISTS["cp"], required=True)
            if start:
                plan = f"{child}|CPP|{start.isoformat()}"
                icpc = conferences.get((child, start))
                if icpc:
                    icpc["icpc_cp_plan_id"] = plan
                rows.append({"cppl_cp_plan_id": plan, "cppl_person_id": child, "cppl_icpc_id": icpc["icpc_icpc_id"] if icpc else None,
                             "cppl_cp_plan_start_date": start, "cppl_cp_plan_end_date": reader.date(values, row, "child protection plan end date"),
                             "cppl_cp_plan_initial_category": reader.code(values, "initial category of abuse")})
        out["ssd_cp_plans"] = rows
    if "s47" in sheets:
        out["ssd_initial_cp_conference"] = list(conferences.values())
    if "cla" in sheets:
        episodes, placements, statuses = [], [], []
        for reader, row, values, child in each("cla"):
            entered = reader.date(values, row, LISTS["cla"], required=True)
            if not entered:
                continue
            period = f"{child}|{entered.isoformat()}"
            ceased = reader.date(values, row, "date ceased to be looked after")
            placed = reader.date(values, row, "start date of most recent placement") or entered
            reason = reader.code(values, "reason ceased to be looked after")
            # before the most recent placement, one placement of unknown type (Annex A gives only the current one)
            spans = ([(entered, placed, None)] if placed > entered else []) + [(placed, ceased, values)]
            for number, (start, end, placement) in enumerate(spans):
                key = f"{child}|{start.isoformat()}"
                last = number == len(spans) - 1
                episodes.append({"clae_cla_episode_id": key, "clae_person_id": child, "clae_cla_id": period,
                                 "clae_cla_episode_start_date": start, "clae_cla_episode_start_reason": "S" if number == 0 else "P",
                                 "clae_cla_episode_ceased_date": end, "clae_cla_episode_ceased_reason": reason if last else "X1",
                                 "clae_entered_care_date": entered, "clae_cla_placement_id": key})
                placements.append({"clap_cla_placement_id": key, "clap_person_id": child, "clap_cla_id": period,
                                   "clap_cla_placement_start_date": start, "clap_cla_placement_end_date": end,
                                   "clap_cla_placement_type": reader.code(placement, "placement type") if placement else None,
                                   "clap_cla_placement_provider": reader.code(placement, "placement provider") if placement else None,
                                   "clap_cla_placement_postcode": (placement.get("placement postcode") or None) if placement else None})
            statuses.append({"lega_legal_status_id": period, "lega_person_id": child, "lega_legal_status": reader.code(values, "child's legal status"),
                             "lega_legal_status_start_date": entered, "lega_legal_status_end_date": ceased})
        out["ssd_cla_episodes"], out["ssd_cla_placement"], out["ssd_legal_status"] = episodes, placements, statuses
    out["ssd_person"] = [people[p] for p in sorted(people)]
    return out


# The demo council written out as Annex A: Ofsted's template (a title row above each list's header).

_TITLES = {"contacts": "List 1: Contacts", "referrals": "List 3: Referrals", "assessments": "List 4: Assessments",
           "s47": "List 5: Section 47 enquiries and Initial Child Protection Conferences", "cin": "List 6: Children in need",
           "cp": "List 7: Child protection", "cla": "List 8: Children in care"}
_COMMON = ("Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age")


def write(tables: dict, out: Path, as_at: date) -> Path:
    """Write the canonical `tables` (polars frames) as an Annex A workbook as at `as_at` (its lists
    hold the 6 months before it), in Ofsted's layout: a title row above each list's header."""
    import xlsxwriter

    from kpi.atomic import write_atomically

    months = as_at.year * 12 + as_at.month - 1 - 5   # the 6 months to as_at: from the 1st of the month 5 before
    window = date(months // 12, months % 12 + 1, 1)
    people = {r["pers_person_id"]: r for r in tables["ssd_person"].iter_rows(named=True)}

    def rows(name):
        return list(tables[name].iter_rows(named=True))

    def upto(day):
        return day if day is not None and day <= as_at else None

    def latest_per_child(items, person, start):
        chosen = {}
        for r in sorted(items, key=lambda r: r[start]):
            chosen[r[person]] = r
        return list(chosen.values())

    sheets: dict[str, tuple[tuple, list]] = {}
    sheets["contacts"] = (("Date of Contact", "Contact Source"), [
        (r["cont_person_id"], r["cont_contact_date"].date(), f"a) {r['cont_contact_source_code']}: source")
        for r in rows("ssd_contacts") if window <= r["cont_contact_date"].date() <= as_at])
    sheets["referrals"] = (("Date of Referral", "Referral Source", "Referral NFA?", "Allocated Team", "Allocated Worker"), [
        (r["cine_person_id"], r["cine_referral_date"].date(), r["cine_referral_source_code"], "a) Yes" if r["cine_referral_nfa"] else "b) No",
         r["cine_referral_team"], r["cine_referral_worker_id"])
        for r in rows("ssd_cin_episodes") if window <= r["cine_referral_date"].date() <= as_at])
    sheets["assessments"] = (("Continuous Assessment Start Date", "Child Seen During Continuous Assessment",
                              "Continuous Assessment Date of Authorisation",
                              "Was the child assessed as requiring LA children\u2019s social care support?"), [
        (r["cina_person_id"], r["cina_assessment_start_date"], "Yes" if r["cina_assessment_child_seen"] else "No",
         upto(r["cina_assessment_auth_date"]), "" if upto(r["cina_assessment_auth_date"]) is None else ("No" if r["cina_assessment_outcome_nfa"] else "Yes"))
        for r in rows("ssd_cin_assessments") if r["cina_assessment_start_date"] <= as_at
        and (r["cina_assessment_auth_date"] is None or r["cina_assessment_auth_date"] >= window)])
    icpc_of = {r["icpc_s47_enquiry_id"]: r for r in rows("ssd_initial_cp_conference") if r["icpc_s47_enquiry_id"]}
    sheets["s47"] = (("Strategy discussion initiating Section 47 Enquiry Start Date",
                      "Was an Initial Child Protection Conference deemed unnecessary?", "Date of Initial Child Protection Conference",
                      "Did the Initial Child Protection Conference Result in a Child Protection Plan"), [
        (r["s47e_person_id"], r["s47e_s47_start_date"], "a) Yes" if r["s47e_s47_nfa"] else "b) No",
         upto((icpc_of.get(r["s47e_s47_enquiry_id"]) or {}).get("icpc_icpc_date")),
         ("a) Yes" if icpc_of[r["s47e_s47_enquiry_id"]]["icpc_icpc_outcome_cp_flag"] else "b) No")
         if upto((icpc_of.get(r["s47e_s47_enquiry_id"]) or {}).get("icpc_icpc_date")) else "")
        for r in rows("ssd_s47_enquiry") if window <= r["s47e_s47_start_date"] <= as_at])
    cin = latest_per_child([r for r in rows("ssd_cin_episodes") if r["cine_referral_date"].date() <= as_at
                            and (r["cine_close_date"] is None or r["cine_close_date"] >= window)], "cine_person_id", "cine_referral_date")
    sheets["cin"] = (("CIN Start Date", "Primary Need Code", "CIN Closure Date", "Reason for Closure"), [
        (r["cine_person_id"], r["cine_referral_date"].date(), r["cine_cin_primary_need_code"], upto(r["cine_close_date"]),
         r["cine_close_reason"] if upto(r["cine_close_date"]) else "") for r in cin])
    plans = latest_per_child([r for r in rows("ssd_cp_plans") if r["cppl_cp_plan_start_date"] <= as_at
                              and (r["cppl_cp_plan_end_date"] is None or r["cppl_cp_plan_end_date"] >= window)],
                             "cppl_person_id", "cppl_cp_plan_start_date")
    sheets["cp"] = (("Child Protection Plan Start Date", "Initial Category of Abuse", "Child Protection Plan End Date"), [
        (r["cppl_person_id"], r["cppl_cp_plan_start_date"], f"{r['cppl_cp_plan_initial_category']}: category", upto(r["cppl_cp_plan_end_date"]))
        for r in plans])
    periods: dict[str, dict] = {}
    for e in sorted(rows("ssd_cla_episodes"), key=lambda e: e["clae_cla_episode_start_date"]):
        if e["clae_cla_episode_start_date"] <= as_at and (e["clae_cla_episode_ceased_date"] is None or e["clae_cla_episode_ceased_date"] >= window):
            periods.setdefault(e["clae_cla_id"], []).append(e)
    placements = {p["clap_cla_placement_id"]: p for p in rows("ssd_cla_placement")}
    statuses = rows("ssd_legal_status")
    cla = []
    for episodes in periods.values():
        last = episodes[-1]
        child, ceased = last["clae_person_id"], upto(last["clae_cla_episode_ceased_date"])
        on = min(as_at, ceased - timedelta(days=1)) if ceased else as_at
        status = [s for s in statuses if s["lega_person_id"] == child and s["lega_legal_status_start_date"] <= on
                  and (s["lega_legal_status_end_date"] is None or s["lega_legal_status_end_date"] > on)]
        place = placements.get(last["clae_cla_placement_id"], {})
        cla.append((child, last["clae_entered_care_date"], status[-1]["lega_legal_status_start_date"] if status else None,
                    f"{status[-1]['lega_legal_status']}: status" if status else "", ceased,
                    last["clae_cla_episode_ceased_reason"] if ceased else "", last["clae_cla_episode_start_date"],
                    f"{place.get('clap_cla_placement_type')}: placement", place.get("clap_cla_placement_provider"),
                    place.get("clap_cla_placement_postcode")))
    sheets["cla"] = (("Date Started to be Looked After", "Start date of current legal status", "Child's Legal Status",
                      "Date Ceased to be Looked After", "Reason Ceased to be Looked After", "Start Date of Most Recent Placement",
                      "Placement Type", "Placement Provider", "Placement postcode"),
                     latest_per_child([dict(zip(("child", "start"), r[:2]), row=r) for r in cla], "child", "start"))
    sheets["cla"] = (sheets["cla"][0], [r["row"] for r in sheets["cla"][1]])

    def build(target: Path) -> None:
        book = xlsxwriter.Workbook(str(target))
        day_format = book.add_format({"num_format": "dd/mm/yyyy"})
        for kind, (headers, items) in sheets.items():
            sheet = book.add_worksheet(_TITLES[kind].split(":")[0].replace(" ", "_"))
            sheet.write(0, 0, _TITLES[kind])
            sheet.write_row(1, 0, _COMMON + headers)
            for number, item in enumerate(items, start=2):
                child, *values = item
                person = people.get(child, {})
                sheet.write(number, 0, child)
                sheet.write(number, 1, {"M": "a) Male", "F": "b) Female"}.get(person.get("pers_sex"), "c) Not stated"))
                sheet.write(number, 2, f"{person.get('pers_ethnicity')}: ethnicity")
                if person.get("pers_dob"):
                    sheet.write_datetime(number, 3, datetime.combine(person["pers_dob"], datetime.min.time()), day_format)
                for column, value in enumerate(values, start=len(_COMMON)):
                    if isinstance(value, date):
                        sheet.write_datetime(number, column, datetime.combine(value, datetime.min.time()), day_format)
                    elif value is not None:
                        sheet.write(number, column, str(value))
        book.close()

    target = Path(out) / f"annex_a_{as_at.isoformat()}.xlsx"
    write_atomically(target, build)
    return target


DEMO_AS_AT = date(2017, 9, 30)  # the demo's scorecard month: its lists hold April to September 2017


def write_demo(tables: dict, out: Path) -> list[Path]:
    """The demo council as Annex A as at 30 September 2017."""
    return [write(tables, out, DEMO_AS_AT)]
