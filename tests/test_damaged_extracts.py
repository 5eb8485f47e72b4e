"""Damaged extracts: each run gives exactly the clean run's numbers, or stops non-zero naming the file
and the fault. Never different numbers with exit 0 (a council would publish them).

The demo council's extracts are written as CSV once; each case damages a copy of the files it needs
and computes only the indicators that read them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest

from kpi import pipeline
from kpi.config import open_project
from kpi.periods import parse_period
from kpi.plan import plan_scorecard

PERIOD = "2017-09"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """The demo council's extracts as CSV, and the clean scorecard's indicators by id."""
    from kpi.cli import app
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("clean") / "extracts"
    runner = CliRunner()
    written = runner.invoke(app, ["demo", "--out", str(folder), "--format", "csv"], catch_exceptions=False)
    assert written.exit_code == 0, written.stderr
    result = runner.invoke(app, ["compute", "--data", str(folder), "--period", PERIOD, "--format", "json", "--strict"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    scorecard = json.loads(result.stdout)
    assert scorecard["warnings"] == []
    return folder, {i["id"]: i for i in scorecard["indicators"]}


def readers(*tables: str) -> list[str]:
    """The ids of the indicators that read any of `tables`."""
    project = open_project()
    definitions = pipeline.load_definitions(project)
    plan = plan_scorecard(definitions.indicators, parse_period(PERIOD), list(definitions.shared), definitions.tables)
    return sorted({i for t in tables for i in plan.needing(t)})


def damaged(clean, tmp_path: Path) -> Path:
    folder = tmp_path / "extracts"
    shutil.copytree(clean[0], folder)
    return folder


def rewrite(path: Path, change: Callable[[list[str], list[list[str]]], tuple[list[str], list[list[str]]]], **write) -> None:
    """Rewrite a CSV: change(header, rows) gives the new header and rows."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = change(header, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=write.pop("lineterminator", "\n"))
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding=write.pop("encoding", "utf-8"), newline="")


def in_column(path: Path, column: str, change: Callable[[str], str]) -> None:
    """Change every value of one column of a CSV."""
    def apply(header, rows):
        at = header.index(column)
        for row in rows:
            row[at] = change(row[at])
        return header, rows
    rewrite(path, apply)


def run(kpi, folder: Path, ids: list[str], *extra: str):
    return kpi("compute", "--data", folder, "--period", PERIOD, "--indicators", ",".join(ids), "--format", "json", "--strict", *extra)


def assert_same_numbers(result, clean, ids: list[str]) -> None:
    assert result.exit_code == 0, result.stderr
    got = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert set(got) == set(ids)
    for indicator_id in ids:
        assert got[indicator_id] == clean[1][indicator_id], indicator_id


def assert_refused(result, file: str, *fault: str) -> None:
    assert result.exit_code != 0, "damaged data gave a scorecard with exit 0"
    assert result.stdout == "" or result.exit_code == 1
    assert file in result.stderr, result.stderr
    for words in fault:
        assert words in result.stderr, result.stderr


def uk_short(iso: str) -> str:
    """2012-06-11 → 11/06/12, as Excel writes a date in a UK locale with a short year."""
    return re.sub(r"^(\d{4})-(\d\d)-(\d\d)", lambda m: f"{m[3]}/{m[2]}/{m[1][2:]}", iso)


def uk_long(iso: str) -> str:
    """2012-06-11 14:05:00 → 11/06/2012 14:05:00."""
    return re.sub(r"^(\d{4})-(\d\d)-(\d\d)", lambda m: f"{m[3]}/{m[2]}/{m[1]}", iso)


# --- Dates ---------------------------------------------------------------------------------------------

def test_two_digit_years_are_refused_with_file_row_column_and_value(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_start_date", uk_short)
    result = run(kpi, folder, ["CSC 183"])
    assert_refused(result, "ssd_cp_plans.csv", "column `cppl_cp_plan_start_date`", "(line 2)", "two_digit_year_pivot")
    assert result.exit_code == 2


def test_two_digit_years_with_a_configured_pivot_give_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_start_date", uk_short)
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_end_date", uk_short)
    project = tmp_path / "project"
    root = Path(open_project().root)
    shutil.copytree(root / "indicators", project / "indicators")
    shutil.copytree(root / "queries", project / "queries")
    (project / "kpi.toml").write_text("two_digit_year_pivot = 50\n", encoding="utf-8")
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids, "--project", project), clean, ids)


def test_uk_dates_and_times_with_four_digit_years_give_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_contacts.csv", "cont_contact_date", uk_long)  # a timestamp: 30/09/2017 14:05:00
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_start_date", uk_long)
    ids = readers("ssd_contacts", "ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_time_zone_suffix_keeps_the_time_as_written(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_contacts.csv", "cont_contact_date", lambda v: v.replace(" ", "T") + "+01:00" if v else v)
    ids = readers("ssd_contacts")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_null_literal_in_a_date_column_is_refused(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_end_date", lambda v: v or "NULL")
    assert_refused(run(kpi, folder, ["CSC 182"]), "ssd_cp_plans.csv", "column `cppl_cp_plan_end_date`", "'NULL' is not a date")


# --- Ids -----------------------------------------------------------------------------------------------

def person_ids_as_numbers(folder: Path) -> None:
    """Person ids written as numbers (P022889 → 022889) in every table, as some case systems do."""
    for path in folder.glob("*.csv"):
        header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        for column in (c for c in header if c.endswith("person_id")):
            in_column(path, column, lambda v: v[1:] if v.startswith("P") else v)


def test_ids_that_lost_their_leading_zeros_in_one_table_are_named(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    person_ids_as_numbers(folder)
    in_column(folder / "ssd_involvements.csv", "invo_person_id", lambda v: v.lstrip("0"))  # Excel opened it
    result = run(kpi, folder, ["CSC 183"])
    assert result.exit_code == 1
    assert "ssd_involvements.invo_person_id" in result.stderr and "ssd_person.pers_person_id" in result.stderr
    assert "'" in result.stderr and "%" in result.stderr  # the share and example values
    warnings = json.loads(result.stdout)["warnings"]
    assert any("ssd_involvements.invo_person_id" in w for w in warnings)


def test_without_strict_a_reference_that_does_not_join_is_a_warning_in_the_json(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_reviews.csv", "cppr_cp_plan_id", lambda v: "X" + v if v else v)
    result = kpi("compute", "--data", folder, "--period", PERIOD, "--indicators", "CSC 191", "--format", "json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1 and "ssd_cp_reviews.cppr_cp_plan_id" in warnings[0] and "0.0%" in warnings[0]
    assert "warning: ssd_cp_reviews.cppr_cp_plan_id" in result.stderr


def test_ids_padded_with_spaces_give_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_reviews.csv", "cppr_cp_plan_id", lambda v: f"  {v}   ")
    in_column(folder / "ssd_cp_plans.csv", "cppl_person_id", lambda v: f"{v} ")
    ids = readers("ssd_cp_reviews", "ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_typed_parquet_ids_padded_or_stored_as_numbers_join_as_text(kpi, clean, tmp_path):
    import polars as pl

    folder = damaged(clean, tmp_path)
    person_ids_as_numbers(folder)
    for path in folder.glob("*.csv"):  # the ids as the numbers they are: 022889 → 22889, everywhere
        header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        for column in (c for c in header if c.endswith("person_id")):
            in_column(path, column, lambda v: v.lstrip("0"))
    people = pl.read_csv(folder / "ssd_person.csv", infer_schema_length=0)
    people = people.with_columns(pl.col("pers_person_id").cast(pl.Float64))  # 22889.0, as pandas stores it
    people.write_parquet(folder / "ssd_person.parquet")
    (folder / "ssd_person.csv").unlink()
    plans = pl.read_csv(folder / "ssd_cp_plans.csv", infer_schema_length=0)
    plans.with_columns(pl.col("cppl_cp_plan_id") + "  ").write_parquet(folder / "ssd_cp_plans.parquet")  # padded
    (folder / "ssd_cp_plans.csv").unlink()
    ids = readers("ssd_person", "ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


# --- The file itself -----------------------------------------------------------------------------------

def test_windows_1252_text_gives_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    rewrite(folder / "ssd_contacts.csv", lambda h, rows: (h + ["note"], [r + ["£5 for café"] for r in rows]), encoding="cp1252")
    ids = readers("ssd_contacts")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_utf16_with_crlf_line_ends_gives_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    rewrite(folder / "ssd_cp_plans.csv", lambda h, rows: (h, rows), encoding="utf-16", lineterminator="\r\n")
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_byte_order_mark_before_the_header_gives_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    rewrite(folder / "ssd_cp_plans.csv", lambda h, rows: (h, rows), encoding="utf-8-sig")
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_file_that_is_no_known_encoding_is_refused_with_the_line(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    path = folder / "ssd_cp_plans.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] += b"\x81"  # undefined in Windows-1252, and not UTF-8
    path.write_bytes(b"\n".join(lines))
    assert_refused(run(kpi, folder, ["CSC 182"]), "ssd_cp_plans.csv", "line 4", "cp1252", "CSV UTF-8")


def test_excel_empty_trailing_rows_are_no_rows(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    rewrite(folder / "ssd_cp_plans.csv", lambda h, rows: (h, rows + [[""] * len(h)] * 72), lineterminator="\r\n")
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_booleans_written_yes_and_no_give_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_contacts.csv", "cont_outcome_new_referral", lambda v: {"true": "Yes", "false": "No"}.get(v, v))
    ids = readers("ssd_contacts")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_semicolon_separated_file_as_european_excel_writes_it_gives_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    path = folder / "ssd_cp_plans.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_dates_as_excel_serial_numbers_are_refused(kpi, clean, tmp_path):
    from datetime import date

    folder = damaged(clean, tmp_path)
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_start_date",
              lambda v: str((date.fromisoformat(v) - date(1899, 12, 30)).days) if v else v)
    assert_refused(run(kpi, folder, ["CSC 182"]), "ssd_cp_plans.csv", "column `cppl_cp_plan_start_date`", "is not a date")


def test_dates_in_mixed_forms_give_the_clean_numbers(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    flip = iter(range(10**9))
    in_column(folder / "ssd_cp_plans.csv", "cppl_cp_plan_start_date", lambda v: uk_long(v) if next(flip) % 2 else v)
    ids = readers("ssd_cp_plans")
    assert_same_numbers(run(kpi, folder, ids), clean, ids)


def test_a_renamed_column_is_refused(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    rewrite(folder / "ssd_cp_plans.csv", lambda h, rows: ([("start_date" if c == "cppl_cp_plan_start_date" else c) for c in h], rows))
    assert_refused(run(kpi, folder, ["CSC 182"]), "ssd_cp_plans.csv", "no column `cppl_cp_plan_start_date`")


def test_a_row_cut_short_is_refused_with_its_line(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    path = folder / "ssd_cp_plans.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[40] = ",".join(lines[40].split(",")[:3])
    path.write_text("\n".join(lines), encoding="utf-8")
    assert_refused(run(kpi, folder, ["CSC 182"]), "ssd_cp_plans.csv:41:", "Line: 41", "Expected Number of Columns")


# --- The period ----------------------------------------------------------------------------------------

def test_a_month_after_the_extract_is_refused(kpi, clean):
    result = kpi("compute", "--data", clean[0], "--period", "2019-06", "--indicators", "CSC 182", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "2019-06" in result.stderr and "2018-03-31" in result.stderr and "latest date in the data" in result.stderr


def test_an_extract_date_given_refuses_a_month_it_does_not_cover(kpi, clean):
    result = kpi("compute", "--data", clean[0], "--period", "2017-09", "--extract-date", "2017-09-15", "--indicators", "CSC 182")
    assert result.exit_code == 2
    assert "2017-09 ends after --extract-date (2017-09-15)" in result.stderr


def test_a_month_the_data_end_inside_of_is_a_warning_without_an_extract_date(kpi, clean, tmp_path):
    folder = damaged(clean, tmp_path)
    # an extract taken on 15 March 2018: nothing in it is dated later
    for path in folder.glob("ssd_*.csv"):
        def cut(header, rows):
            dated = [n for n, c in enumerate(header) if c.endswith(("date", "datetime", "_due", "_dob"))]
            return header, [r for r in rows if all(not r[n] or r[n][:10] <= "2018-03-15" for n in dated)]
        rewrite(path, cut)
    result = kpi("compute", "--data", folder, "--period", "2018-03", "--indicators", "CSC 182", "--format", "json")
    assert result.exit_code == 0
    assert any("2018-03 may be only partly covered" in w for w in json.loads(result.stdout)["warnings"])
    refused = kpi("compute", "--data", folder, "--period", "2018-03", "--indicators", "CSC 182", "--extract-date", "2018-03-15")
    assert refused.exit_code == 2


def test_the_demo_councils_latest_date_is_its_extract_date(kpi):
    from kpi import demo

    result = kpi("compute", "--period", "2018-03", "--format", "json", "--strict")  # the last month it covers
    assert result.exit_code == 0 and json.loads(result.stdout)["warnings"] == []
    refused = kpi("compute", "--period", "2018-04", "--format", "json")
    assert refused.exit_code == 2 and demo.EXTRACT_DATE.isoformat() in refused.stderr


def test_history_months_before_the_data_begin_are_a_warning(kpi, clean):
    result = kpi("compute", "--data", clean[0], "--period", "2014-06", "--indicators", "CSC 252", "--format", "json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1 and "2013-06" in warnings[0] and "2014-06" not in warnings[0]
    strict = kpi("compute", "--data", clean[0], "--period", "2014-06", "--indicators", "CSC 252", "--format", "json", "--strict")
    assert strict.exit_code == 1
