"""The SSDA903 return (children looked after) as a source: its CSV files, one year's folder or a folder of
years, read into the canonical tables (periods of care, placements and legal statuses rebuilt from the
episodes), or its XML form (ssda903_xml.py) into the same rows; and the demo council written out as the
return. Reads no postcode lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kpi.issues import KpiError, display_path
from kpi.returns.common import Problems, Rows, check_code, clean_id, march_31_ending, parse_date, read_csv
from kpi.returns.ssda903_xml import is_xml, read_xml

NAME = "ssda903"

# A file is recognised by its columns (as the DfE's validator does), not its name: the table whose
# columns it holds, the most specific first.
TABLE_COLUMNS = {
    "episodes": {"CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"},
    "header": {"CHILD", "SEX", "DOB", "ETHNIC"},
    "oc3": {"CHILD", "IN_TOUCH", "ACTIV", "ACCOM"},
    "sw_episodes": {"CHILD", "SW_ID", "SW_DECOM"},
    "missing": {"CHILD", "MISSING", "MIS_START"},
    "oc2": {"CHILD", "TEETH_CHECK"},
    "reviews": {"CHILD", "REVIEW"},
    "ad1": {"CHILD", "DATE_INT"},
    "placed_for_adoption": {"CHILD", "DATE_PLACED"},
    "previous_permanence": {"CHILD", "PREV_PERM"},
    "uasc": {"CHILD", "DUC"},
    "dolo": {"CHILD", "DOLO_START"},   # deprivation of liberty orders (2026/27 onwards): recognised, not read
}
REQUIRED = ("header", "episodes")

RNE = frozenset("SLPTBU")
NEW_PLACEMENT = frozenset("SPTBU")      # L changes the legal status only: the placement goes on
LS = frozenset("C1 C2 D1 E1 V2 V3 V4 L1 L2 L3 J1 J2 J3".split())
MISSING = frozenset("MA")
SEX = {"1": "M", "2": "F", "M": "M", "F": "F", "U": "U"}
CLOSED_BY_RULE = "E99"                  # an episode left open one year and absent the next (LIIA's rule 2)

# What the return gives, by canonical table: every other column of these tables is absent (null), and
# every other table too, so the indicators reading them are refused.
GIVES = {
    "ssd_person": ("pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob", "pers_death_date"),
    "ssd_cla_episodes": ("clae_cla_episode_id", "clae_person_id", "clae_cla_id", "clae_cla_episode_start_date",
                         "clae_cla_episode_start_reason", "clae_cla_episode_ceased_date", "clae_cla_episode_ceased_reason",
                         "clae_entered_care_date", "clae_cla_placement_id"),
    "ssd_cla_placement": ("clap_cla_placement_id", "clap_person_id", "clap_cla_id", "clap_cla_placement_start_date",
                          "clap_cla_placement_end_date", "clap_cla_placement_type", "clap_cla_placement_provider",
                          "clap_cla_placement_postcode", "clap_cla_placement_change_reason"),
    "ssd_legal_status": ("lega_legal_status_id", "lega_person_id", "lega_legal_status", "lega_legal_status_start_date",
                         "lega_legal_status_end_date"),
    "ssd_cla_reviews": ("clar_cla_review_id", "clar_cla_id", "clar_person_id", "clar_cla_review_date", "clar_cla_review_cancelled"),
    "ssd_missing": ("miss_table_id", "miss_person_id", "miss_missing_episode_start_date", "miss_missing_episode_end_date",
                    "miss_missing_episode_type"),
    "ssd_cla_health": ("clah_health_check_id", "clah_person_id", "clah_health_check_type", "clah_health_check_date",
                       "clah_health_check_status"),
    "ssd_care_leavers": ("clea_table_id", "clea_person_id", "clea_care_leaver_latest_contact", "clea_care_leaver_in_touch",
                         "clea_care_leaver_accommodation", "clea_care_leaver_accom_suitable", "clea_care_leaver_activity"),
    # SWEpisodes (2023/24 onwards): present only when the files hold them
    "ssd_involvements": ("invo_involvements_id", "invo_person_id", "invo_professional_id", "invo_professional_role_id",
                         "invo_involvement_start_date", "invo_involvement_end_date"),
    "ssd_professionals": ("prof_professional_id", "prof_social_worker_registration_no", "prof_is_qualified_sw"),
}
MAY_BE_ABSENT = ("ssd_involvements", "ssd_professionals")


@dataclass
class Year:
    """One collection year's files: by table, and the 31 March that ends the year (from its dates)."""

    folder: Path
    files: dict[str, Rows]
    end: date | None = None


def read(path: Path) -> dict[str, list[dict]]:
    """The rows of the canonical tables from the return's CSV files in `path` (one year), or in its sub-folders (one
    year each; the latest year's version of a record wins). Raises KpiError naming every problem."""
    problems = Problems()
    years = [_read_year(folder, problems) for folder in _year_folders(path)]
    problems.raise_any(f"the SSDA903 files in {display_path(path)}")
    for year in years:
        year.end = _year_end(year, problems)
    problems.raise_any(f"the SSDA903 files in {display_path(path)}")
    ends = [y.end for y in years]
    if len(set(ends)) < len(ends):
        shown = ", ".join(f"{display_path(y.folder)} (to {y.end:%d/%m/%Y})" for y in years)
        raise KpiError(f"two folders hold the same collection year of the SSDA903 return: {shown}: give each year once")
    years.sort(key=lambda y: y.end)
    tables = _tables(years, problems)
    problems.raise_any(f"the SSDA903 files in {display_path(path)}")
    return tables


def _year_folders(path: Path) -> list[Path]:
    """The years given: a folder of one year's CSV files, or one year's XML file; each year's folder or
    XML file in `path`."""
    if path.is_file() and is_xml(path):
        return [path]
    if not path.is_dir():
        raise KpiError(f"{display_path(path)} is not a folder: give --data the folder holding the SSDA903 CSV files, or its XML file")
    if _return_files(path) and _xml_files(path):
        raise KpiError(f"{display_path(path)} holds both CSV files and XML files of the SSDA903 return: give one form "
                       "(or put each year in a folder of its own)")
    if _return_files(path):
        return [path]
    years = _xml_files(path)
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        years += [folder] if _return_files(folder) else _xml_files(folder)
    if not years:
        raise KpiError(f"{display_path(path)} holds no CSV or XML files: give the folder of the SSDA903 files (header.csv, episodes.csv, …) "
                       "or its XML file, or a folder with one such folder or XML file per year")
    return years


def _xml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_xml(p))


def _return_files(folder: Path) -> list[Path]:
    """The CSV files of a folder, but for canonical tables given beside the return (ref_population.csv)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and not p.stem.lower().startswith(("ref_", "ssd_")))


def _kind(rows: Rows) -> str | None:
    columns = set(rows.columns)
    matching = [k for k, needed in TABLE_COLUMNS.items() if needed <= columns]
    return max(matching, key=lambda k: len(TABLE_COLUMNS[k])) if matching else None


def _read_year(folder: Path, problems: Problems) -> Year:
    if is_xml(folder):  # the XML form: one year in one file
        return Year(folder, read_xml(folder, problems))
    files: dict[str, Rows] = {}
    for path in _return_files(folder):
        rows = read_csv(path)
        kind = _kind(rows)
        if kind is None:
            problems.add("return-file", f"this is not a file of the SSDA903 return: its columns ({', '.join(rows.columns[:8])}) are those of "
                         f"none of its tables (Header has CHILD, SEX, DOB, ETHNIC; Episodes CHILD, DECOM, RNE, LS, PLACE, DEC, REC)", rows.shown)
        elif kind in files:
            problems.add("return-file", f"holds the {kind} table, as {files[kind].shown} does: give each table of a year once "
                         "(put each year in a folder of its own)", rows.shown)
        else:
            files[kind] = rows
    for kind in REQUIRED:
        if kind not in files and files:
            problems.add("return-file", f"the {kind} file of the SSDA903 return is missing (a CSV with the columns "
                         f"{', '.join(sorted(TABLE_COLUMNS[kind]))})", display_path(folder))
    return Year(folder, files)


def _year_end(year: Year, problems: Problems) -> date | None:
    """The 31 March ending the collection year: the files carry no year, so it is the one holding their latest date."""
    dates = []
    for kind, columns in (("episodes", ("DECOM", "DEC")), ("reviews", ("REVIEW",))):
        rows = year.files.get(kind)
        for line, row in rows.rows if rows else ():
            for column in columns:
                found = parse_date(row.get(column, ""), rows, line, column, Problems())
                if found:
                    dates.append(found)
    if not dates:
        problems.add("return-file", "the episodes hold no date, so the collection year is unknown", display_path(year.folder))
        return None
    return march_31_ending(max(dates))


def _unique(records: dict, key: tuple, record: dict, rows: Rows, line: int, problems: Problems, seen: set) -> None:
    """A record by its natural key: a later year's replaces an earlier's; within one file an identical
    repeat is dropped, a different one with the same key is a problem."""
    if key in seen:
        if records[key] != record:
            problems.add("return-duplicate", f"a second row for {'|'.join(map(str, key))} that differs from the first: keep one", rows.shown, line)
        return
    seen.add(key)
    records[key] = record


def _tables(years: list[Year], problems: Problems) -> dict[str, list[dict]]:
    people: dict[str, dict] = {}
    episodes: dict[tuple, dict] = {}
    reviews: dict[tuple, dict] = {}
    missing: dict[tuple, dict] = {}
    health: list[dict] = []
    leavers: list[dict] = []
    sw_episodes: dict[tuple, dict] = {}
    for year in years:
        f = year.files
        seen: set = set()
        if "header" in f:
            rows = f["header"]
            for line, row in rows.rows:
                child = clean_id(row.get("CHILD", ""))
                if not child:
                    problems.add("return-id", "CHILD is empty", rows.shown, line)
                    continue
                sex = row.get("SEX", "").strip().upper()
                if sex and sex not in SEX:
                    problems.add("return-code", f"SEX {sex!r} is not a code of the return (1, 2, or M, F, U from 2024/25)", rows.shown, line)
                record = {"sex": SEX.get(sex), "dob": parse_date(row.get("DOB", ""), rows, line, "DOB", problems),
                          "ethnic": row.get("ETHNIC", "").strip().upper() or None}
                if (child,) in seen and people.get(child) != record:
                    problems.add("return-duplicate", f"a second Header row for CHILD {child} that differs from the first: keep one", rows.shown, line)
                seen.add((child,))
                people[child] = record
        seen = set()
        rows = f.get("episodes")
        for line, row in rows.rows if rows else ():
            child = clean_id(row.get("CHILD", ""))
            start = parse_date(row.get("DECOM", ""), rows, line, "DECOM", problems, required=True)
            record = {
                "child": child, "start": start,
                "rne": check_code(row.get("RNE", ""), RNE, rows, line, "RNE", problems, required=True),
                "ls": check_code(row.get("LS", ""), LS, rows, line, "LS", problems, required=True),
                "place": row.get("PLACE", "").strip().upper() or None,
                "provider": row.get("PLACE_PROVIDER", "").strip().upper() or None,
                "postcode": row.get("PL_POST", "").strip().upper() or None,
                "end": parse_date(row.get("DEC", ""), rows, line, "DEC", problems),
                "rec": row.get("REC", "").strip().upper() or None,
                "change": row.get("REASON_PLACE_CHANGE", "").strip().upper() or None,
                "year_end": year.end,
            }
            if not child:
                problems.add("return-id", "CHILD is empty", rows.shown, line)
            elif start:
                _unique(episodes, (child, start), record, rows, line, problems, seen)
        seen = set()
        rows = f.get("reviews")
        for line, row in rows.rows if rows else ():
            child, day = clean_id(row.get("CHILD", "")), parse_date(row.get("REVIEW", ""), rows, line, "REVIEW", problems, required=True)
            if child and day:
                _unique(reviews, (child, day), {"child": child, "date": day}, rows, line, problems, seen)
        year_missing: dict[tuple, list] = {}
        rows = f.get("missing")
        for line, row in rows.rows if rows else ():
            child = clean_id(row.get("CHILD", ""))
            kind = check_code(row.get("MISSING", ""), MISSING, rows, line, "MISSING", problems, required=True)
            start = parse_date(row.get("MIS_START", ""), rows, line, "MIS_START", problems, required=True)
            end = parse_date(row.get("MIS_END", ""), rows, line, "MIS_END", problems)
            record = {"child": child, "kind": kind, "start": start, "end": end}
            if child and kind and start and record not in year_missing.setdefault((child, start, kind), []):
                year_missing[(child, start, kind)].append(record)  # two episodes may begin the same day
        missing.update(year_missing)  # a later year's episodes of a key replace an earlier's
        rows = f.get("oc2")
        for line, row in rows.rows if rows else ():
            child = clean_id(row.get("CHILD", ""))
            for column, check in (("HEALTH_ASSESSMENT", "HEALTH"), ("TEETH_CHECK", "DENTAL")):
                if child and row.get(column, "").strip() == "1":
                    health.append({"id": f"{child}|{year.end.year}|{check}", "child": child, "type": check, "date": year.end})
        rows = f.get("oc3")
        for line, row in rows.rows if rows else ():
            child = clean_id(row.get("CHILD", ""))
            accom = row.get("ACCOM", "").strip().upper()
            if child:
                leavers.append({"child": child, "year_end": year.end, "in_touch": row.get("IN_TOUCH", "").strip().upper() or None,
                                "accommodation": accom[:1] if accom and accom != "0" else None,
                                "suitable": accom[1:2] if len(accom) > 1 else None,
                                "activity": row.get("ACTIV", "").strip().upper() or None})
        seen = set()
        rows = f.get("sw_episodes")
        for line, row in rows.rows if rows else ():
            child, worker = clean_id(row.get("CHILD", "")), clean_id(row.get("SW_ID", "")).upper()
            start = parse_date(row.get("SW_DECOM", ""), rows, line, "SW_DECOM", problems, required=True)
            end = parse_date(row.get("SW_DEC", ""), rows, line, "SW_DEC", problems)
            if child and worker and start:
                _unique(sw_episodes, (child, start), {"child": child, "worker": worker, "start": start, "end": end}, rows, line, problems, seen)
    return _canonical(people, list(episodes.values()), reviews, missing, health, leavers, sw_episodes, years)


def _canonical(people, episodes, reviews, missing, health, leavers, sw_episodes, years) -> dict[str, list[dict]]:
    latest = years[-1].end
    for episode in episodes:
        # open in an older year's file and absent from every later one: it closed by that year's end
        if episode["end"] is None and episode["year_end"] < latest:
            episode["end"], episode["rec"] = episode["year_end"], CLOSED_BY_RULE
    episodes.sort(key=lambda e: (e["child"], e["start"]))
    cla_rows, placements, statuses = [], [], []
    previous = None
    for episode in episodes:
        child, key = episode["child"], f"{episode['child']}|{episode['start'].isoformat()}"
        same_child = previous is not None and previous["child"] == child
        new_period = not same_child or episode["rne"] == "S" or previous["rec"] not in (None, "X1")
        if new_period:
            period, entered = key, episode["start"]
        if new_period or episode["rne"] in NEW_PLACEMENT:
            placement = {"clap_cla_placement_id": key, "clap_person_id": child, "clap_cla_id": period,
                         "clap_cla_placement_start_date": episode["start"], "clap_cla_placement_type": episode["place"],
                         "clap_cla_placement_provider": episode["provider"], "clap_cla_placement_postcode": episode["postcode"]}
            placements.append(placement)
        placement["clap_cla_placement_end_date"] = episode["end"]
        placement["clap_cla_placement_change_reason"] = episode["change"]  # on the episode that ends the placement
        if new_period or episode["ls"] != previous["ls"]:
            status = {"lega_legal_status_id": key, "lega_person_id": child, "lega_legal_status": episode["ls"],
                      "lega_legal_status_start_date": episode["start"]}
            statuses.append(status)
        status["lega_legal_status_end_date"] = episode["end"]
        cla_rows.append({"clae_cla_episode_id": key, "clae_person_id": child, "clae_cla_id": period,
                         "clae_cla_episode_start_date": episode["start"], "clae_cla_episode_start_reason": episode["rne"],
                         "clae_cla_episode_ceased_date": episode["end"], "clae_cla_episode_ceased_reason": episode["rec"],
                         "clae_entered_care_date": entered, "clae_cla_placement_id": placement["clap_cla_placement_id"]})
        previous = episode
    deaths = {e["child"]: e["end"] for e in episodes if e["rec"] == "E2"}
    periods = {}
    for row in cla_rows:
        periods.setdefault(row["clae_person_id"], []).append(
            (row["clae_entered_care_date"], row["clae_cla_episode_ceased_date"], row["clae_cla_id"]))
    tables = {
        "ssd_person": [{"pers_person_id": c, "pers_sex": p["sex"], "pers_ethnicity": p["ethnic"], "pers_dob": p["dob"],
                        "pers_death_date": deaths.get(c)} for c, p in sorted(people.items())],
        "ssd_cla_episodes": cla_rows,
        "ssd_cla_placement": placements,
        "ssd_legal_status": statuses,
        "ssd_cla_reviews": [{"clar_cla_review_id": f"{c}|{d.isoformat()}", "clar_cla_id": _period_on(periods.get(c, ()), d),
                             "clar_person_id": c, "clar_cla_review_date": d, "clar_cla_review_cancelled": False}
                            for (c, d) in sorted(reviews)],
        "ssd_missing": [{"miss_table_id": f"{c}|{s.isoformat()}|{k}" + (f"#{n + 1}" if n else ""), "miss_person_id": c,
                         "miss_missing_episode_start_date": datetime(s.year, s.month, s.day),
                         "miss_missing_episode_end_date": datetime(m["end"].year, m["end"].month, m["end"].day) if m["end"] else None,
                         "miss_missing_episode_type": k} for (c, s, k), same_day in sorted(missing.items()) for n, m in enumerate(same_day)],
        "ssd_cla_health": [{"clah_health_check_id": h["id"], "clah_person_id": h["child"], "clah_health_check_type": h["type"],
                            "clah_health_check_date": h["date"], "clah_health_check_status": "Completed"} for h in health],
        "ssd_care_leavers": [_care_leaver(r, people.get(r["child"], {}).get("dob")) for r in leavers],
    }
    if sw_episodes:
        tables["ssd_involvements"] = [{"invo_involvements_id": f"{c}|{s.isoformat()}", "invo_person_id": c,
                                       "invo_professional_id": e["worker"], "invo_professional_role_id": "SW",
                                       "invo_involvement_start_date": s, "invo_involvement_end_date": e["end"]}
                                      for (c, s), e in sorted(sw_episodes.items())]
        workers = sorted({e["worker"] for e in sw_episodes.values()})
        tables["ssd_professionals"] = [{"prof_professional_id": w, "prof_social_worker_registration_no": w if w.startswith("SW") else None,
                                        "prof_is_qualified_sw": w.startswith("SW")} for w in workers]
    return tables


def _period_on(periods, day: date) -> str | None:
    """The period of care holding `day` (the latest begun on or before it)."""
    found = [p for start, _, p in periods if start <= day]
    return max(found) if found else None


def _care_leaver(record: dict, dob: date | None) -> dict:
    """OC3's status is the one around the birthday (17th to 21st) in its year: that birthday is its date."""
    contact = None
    if dob is not None:
        start = date(record["year_end"].year - 1, 4, 1)
        for age in range(17, 22):
            try:
                birthday = dob.replace(year=dob.year + age)
            except ValueError:  # born on 29 February
                birthday = date(dob.year + age, 3, 1)
            if start <= birthday <= record["year_end"]:
                contact = birthday
    return {"clea_table_id": f"{record['child']}|{record['year_end'].year}", "clea_person_id": record["child"],
            "clea_care_leaver_latest_contact": contact or record["year_end"], "clea_care_leaver_in_touch": record["in_touch"],
            "clea_care_leaver_accommodation": record["accommodation"], "clea_care_leaver_accom_suitable": record["suitable"],
            "clea_care_leaver_activity": record["activity"]}


# The demo council written out as the return: one folder per collection year, as a council submits it.

def write(tables: dict, out: Path, first_year_end: date, last_year_end: date) -> list[Path]:
    """Write the canonical `tables` (polars frames) as the return's CSV files, a folder `YYYY-YY` per
    collection year from the one ending `first_year_end` to `last_year_end`; returns the folders.
    Episodes are the placements split where the legal status changes (RNE L)."""

    people = {r["pers_person_id"]: r for r in tables["ssd_person"].iter_rows(named=True)}
    statuses: dict[str, list] = {}
    for r in tables["ssd_legal_status"].sort("lega_legal_status_start_date").iter_rows(named=True):
        statuses.setdefault(r["lega_person_id"], []).append(r)
    placements = {r["clap_cla_placement_id"]: r for r in tables["ssd_cla_placement"].iter_rows(named=True)}
    episodes = []
    for e in tables["ssd_cla_episodes"].sort("clae_person_id", "clae_cla_episode_start_date").iter_rows(named=True):
        child, start, end = e["clae_person_id"], e["clae_cla_episode_start_date"], e["clae_cla_episode_ceased_date"]
        place = placements.get(e["clae_cla_placement_id"], {})
        mine = statuses.get(child, [])
        cuts = sorted({s["lega_legal_status_start_date"] for s in mine
                       if start < s["lega_legal_status_start_date"] and (end is None or s["lega_legal_status_start_date"] < end)})
        bounds = [start, *cuts, end]
        for i in range(len(bounds) - 1):
            last = i == len(bounds) - 2
            here = bounds[i]
            status = [s for s in mine if s["lega_legal_status_start_date"] <= here
                      and (s["lega_legal_status_end_date"] is None or s["lega_legal_status_end_date"] > here)]
            episodes.append({
                "CHILD": child, "DECOM": here, "RNE": e["clae_cla_episode_start_reason"] if i == 0 else "L",
                "LS": status[-1]["lega_legal_status"] if status else "V2", "CIN": "N1",
                "PLACE": place.get("clap_cla_placement_type"), "PLACE_PROVIDER": place.get("clap_cla_placement_provider"),
                "DEC": bounds[i + 1], "REC": e["clae_cla_episode_ceased_reason"] if last else "X1",
                "REASON_PLACE_CHANGE": place.get("clap_cla_placement_change_reason") if last else None,
                "HOME_POST": None, "PL_POST": place.get("clap_cla_placement_postcode"), "URN": None,
            })
    reviews = tables["ssd_cla_reviews"].filter(~tables["ssd_cla_reviews"]["clar_cla_review_cancelled"].fill_null(False))
    health = tables["ssd_cla_health"]
    folders = []
    year_end = first_year_end
    while year_end <= last_year_end:
        year_start = date(year_end.year - 1, 4, 1)
        folder = Path(out) / f"{year_end.year - 1}-{year_end.year % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        in_year = [dict(e) for e in episodes if e["DECOM"] <= year_end and (e["DEC"] is None or e["DEC"] >= year_start)]
        for e in in_year:
            if e["DEC"] is not None and e["DEC"] > year_end:  # open at 31 March: closed in a later year's file
                e["DEC"], e["REC"], e["REASON_PLACE_CHANGE"] = None, None, None
        children = sorted({e["CHILD"] for e in in_year})
        looked_after = set(children)
        header = [{"CHILD": c, "SEX": {"M": "1", "F": "2"}.get(people[c]["pers_sex"], ""), "DOB": people[c]["pers_dob"],
                   "ETHNIC": people[c]["pers_ethnicity"], "UPN": "", "MOTHER": "", "MC_DOB": ""} for c in children]
        year_reviews = [{"CHILD": r["clar_person_id"], "DOB": people[r["clar_person_id"]]["pers_dob"], "REVIEW": r["clar_cla_review_date"],
                         "REVIEW_CODE": "PN1"} for r in reviews.iter_rows(named=True)
                        if r["clar_cla_review_date"] is not None and year_start <= r["clar_cla_review_date"] <= year_end
                        and r["clar_person_id"] in people]
        done = {(r["clah_person_id"], r["clah_health_check_type"]) for r in health.iter_rows(named=True)
                if r["clah_health_check_date"] and year_start <= r["clah_health_check_date"] <= year_end
                and (r["clah_health_check_status"] or "").upper() not in ("PLANNED", "REFUSED", "CANCELLED")}
        twelve_months = date(year_end.year - 1, 3, 31)
        continuous = sorted({e["CHILD"] for e in in_year if e["DECOM"] <= twelve_months and e["DEC"] is None})
        oc2 = [{"CHILD": c, "DOB": people[c]["pers_dob"], "SDQ_SCORE": "", "SDQ_REASON": "", "CONVICTED": "0",
                "HEALTH_CHECK": "", "IMMUNISATIONS": "", "TEETH_CHECK": "1" if (c, "DENTAL") in done else "0",
                "HEALTH_ASSESSMENT": "1" if (c, "HEALTH") in done else "0", "SUBSTANCE_MISUSE": "0",
                "INTERVENTION_RECEIVED": "", "INTERVENTION_OFFERED": ""} for c in continuous]
        _write_csv(folder / "header.csv", header, ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"))
        _write_csv(folder / "episodes.csv", in_year, ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                                                       "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"))
        _write_csv(folder / "reviews.csv", year_reviews, ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"))
        _write_csv(folder / "oc2.csv", oc2, ("CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
                                              "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"))
        missing = [{"CHILD": r["miss_person_id"], "DOB": people[r["miss_person_id"]]["pers_dob"],
                    "MISSING": r["miss_missing_episode_type"], "MIS_START": r["miss_missing_episode_start_date"].date(),
                    "MIS_END": r["miss_missing_episode_end_date"].date() if r["miss_missing_episode_end_date"] else None}
                   for r in tables["ssd_missing"].iter_rows(named=True)
                   if r["miss_person_id"] in looked_after and year_start <= r["miss_missing_episode_start_date"].date() <= year_end]
        _write_csv(folder / "missing.csv", missing, ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"))
        folders.append(folder)
        year_end = date(year_end.year + 1, 3, 31)
    return folders


def _write_csv(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    import csv

    from kpi.atomic import write_atomically

    def text(value) -> str:
        return value.strftime("%d/%m/%Y") if isinstance(value, date) else ("" if value is None else str(value))

    def write(target: Path) -> None:
        with open(target, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(columns)
            out.writerows([text(r.get(c)) for c in columns] for r in rows)
    write_atomically(path, write)


def write_demo(tables: dict, out: Path) -> list[Path]:
    """The demo council as the return: every collection year of its history (2014/15 to 2017/18)."""
    from kpi.demo import EXTRACT_DATE, HISTORY_START
    from kpi.returns.common import march_31_ending

    return write(tables, out, march_31_ending(HISTORY_START), march_31_ending(EXTRACT_DATE))
