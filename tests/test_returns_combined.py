"""Several sources in one run (kpi.toml's [[data]] entries): the demo council written as the SSDA903, the
CIN census and Annex A, combined, gives each indicator from the entry supplying its tables, with the
canonical demo's numbers where exact and the approximation of that entry's source where not; a table
two entries supply, and every other mistake in the entries, is refused naming kpi.toml and the entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import Kpi

CIN_TABLES = ["ssd_cin_assessments", "ssd_cin_episodes", "ssd_cp_plans", "ssd_cp_reviews", "ssd_initial_cp_conference",
              "ssd_s47_enquiry", "ssd_strategy_discussions"]
MONTHS = ("2017-04", "2017-05", "2017-06", "2017-07", "2017-08", "2017-09")
FROM_903 = ("CSC 200", "CSC 201", "CSC 218", "CSC 228")
FROM_CIN = ("CSC 013", "CSC 014", "CSC 032", "CSC 034", "CSC 035", "CSC 038", "CSC 040", "CSC 058", "CSC 078", "CSC 098",
            "CSC 165", "CSC 173", "CSC 181", "CSC 182", "CSC 186", "CSC 187", "CSC 188", "CSC 191")
FROM_ANNEX_A = ("CSC 004i", "CSC 004k")  # contacts: inside Annex A's six months, the demo's numbers


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> Path:
    """The demo council as the three returns, each in its own folder, as a council would have them."""
    root = tmp_path_factory.mktemp("returns")
    kpi = Kpi()
    for folder, fmt in (("903", "ssda903"), ("cin", "cin-census"), ("annex", "annex-a")):
        assert kpi("demo", "--out", root / folder, "--format", fmt).exit_code == 0
    return root


def project(root: Path, entries: str) -> Path:
    folder = root / "project"
    folder.mkdir(exist_ok=True)
    (folder / "kpi.toml").write_text("include_bundled_indicators = true\n" + entries, encoding="utf-8")
    return folder


def entry(source: str, path: Path, tables: list[str] | None = None) -> str:
    listed = f"tables = {json.dumps(tables)}\n" if tables is not None else ""
    return f'\n[[data]]\nsource = "{source}"\npath = "{path}"\n{listed}'


THREE = lambda r: entry("ssda903", r / "903") + entry("cin-census", r / "cin", CIN_TABLES) + entry("annex-a", r / "annex", ["ssd_contacts"])


def test_three_returns_combined_give_each_indicator_from_the_entry_supplying_its_tables(kpi, returns, tmp_path):
    canonical = {i["id"]: i for i in kpi.json("compute", "--period", "2017-09")["indicators"]}
    folder = project(tmp_path, THREE(returns))
    out = tmp_path / "combined.json"
    result = kpi("compute", "--project", folder, "--period", "2017-09", "--format", "json", "--output", out)
    assert result.exit_code == 1, result.stderr  # what none of the returns holds is not computed, each row saying why
    scorecard = json.loads(out.read_text())
    rows = {i["id"]: i for i in scorecard["indicators"]}
    for indicator in FROM_903 + FROM_CIN + FROM_ANNEX_A:
        assert rows[indicator]["error"] is None, indicator
        for month in MONTHS:
            assert rows[indicator]["months"][month] == canonical[indicator]["months"][month], (indicator, month)
    # exact where the supplying entry's source is: CSC 013 reads referrals from the census, not Annex A
    assert all(rows[i]["approximation"] is None for i in FROM_903 + FROM_CIN)
    assert rows["CSC 004i"]["approximation"].startswith("exact only for the months inside the 6 months before the Annex A extract date")
    assert rows["CSC 250"]["approximation"].startswith("the return's OC2 HEALTH_ASSESSMENT has no date")
    assert rows["CSC 161"]["approximation"].startswith("the census records only the strategy discussions")
    assert "CSC 004i is approximate from source annex-a: exact only" in " ".join(scorecard["warnings"])
    assert "needs the table ssd_early_help_assessments" in rows["CSC 001"]["error"]
    # every table's origin, and the entries, are in the provenance; the run reproduces from it
    provenance = scorecard["provenance"]
    origins = {t["table"]: t["file"] for t in provenance["tables"]}
    assert origins["ssd_cla_episodes"].endswith("903 (the ssda903 return; [[data]] entry 1, source ssda903)")
    assert origins["ssd_cin_episodes"].endswith("cin (the cin-census return; [[data]] entry 2, source cin-census)")
    assert origins["ssd_contacts"].endswith("annex (the annex-a return; [[data]] entry 3, source annex-a)")
    assert origins["ssd_person"].endswith("[[data]] entry 1, source ssda903)")
    assert provenance["source"] == "ssda903 + cin-census + annex-a"
    assert [e["source"] for e in provenance["data_entries"]] == ["ssda903", "cin-census", "annex-a"]
    again = kpi("compute", "--project", folder, "--reproduce", out)
    assert again.exit_code == 0 and "comes out the same again" in again.stdout, again.stdout + again.stderr


def test_coverage_is_per_indicator_from_the_entries(kpi, returns, tmp_path):
    result = kpi("coverage", "--project", project(tmp_path, THREE(returns)))
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "CSC 013 yes reads only what the extract has (from cin-census)" in text
    assert "CSC 201 yes reads only what the extract has (from ssda903)" in text
    assert "CSC 004i yes approximate: exact only for the months inside the 6 months" in text
    assert "CSC 247 no needs ssd_cla_health rows of type IHA" in text  # the 903's refusal: it supplies ssd_cla_health


def test_a_table_two_entries_supply_is_an_error_naming_both(kpi, returns, tmp_path):
    folder = project(tmp_path, entry("ssda903", returns / "903") + entry("cin-census", returns / "cin"))
    result = kpi("compute", "--project", folder, "--period", "2017-09")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert ("the table ssd_person is supplied by kpi.toml [[data]] entry 1 (source ssda903, path " in message
            and "and kpi.toml [[data]] entry 2 (source cin-census, path " in message)
    assert 'e.g. on entry 2: tables = ["ref_population", "ssd_cin_assessments"' in message
    assert "ref_population is supplied" not in message  # the same file beside each return is no conflict


@pytest.mark.parametrize("entries, expected", [
    ('\n[[data]]\npath = "x"\n', "kpi.toml: [[data]] entry 1 has no `source`: say how its files are read"),
    ('\n[[data]]\nsource = "ssda903"\n', "kpi.toml: [[data]] entry 1 has no `path`: give the folder or file it reads"),
    ('\n[[data]]\nsource = "ssda903"\npath = "x"\nfolder = "y"\n', "kpi.toml: [[data]] entry 1: unknown key `folder`"),
    ('\n[[data]]\nsource = "ssda903"\npath = "x"\ntables = "ssd_person"\n', "kpi.toml: [[data]] entry 1: `tables` must be a list"),
])
def test_an_entry_without_what_it_needs_is_an_error_naming_kpi_toml_and_the_entry(kpi, tmp_path, entries, expected):
    result = kpi("compute", "--project", project(tmp_path, entries), "--period", "2017-09")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr


def test_an_unknown_source_or_a_missing_path_names_the_entry(kpi, returns, tmp_path):
    folder = project(tmp_path, entry("ssda903", returns / "903") + entry("cin-censis", returns / "cin"))
    result = kpi("compute", "--project", folder, "--period", "2017-09")
    assert result.exit_code == 2
    assert "kpi.toml [[data]] entry 2 (source cin-censis, path " in result.stderr and "there is no source profile 'cin-censis'" in result.stderr
    folder = project(tmp_path, entry("ssda903", returns / "903") + entry("cin-census", returns / "nowhere"))
    result = kpi("compute", "--project", folder, "--period", "2017-09")
    assert result.exit_code == 2 and "kpi.toml [[data]] entry 2 (source cin-census, path " in result.stderr
    assert "nowhere does not exist" in result.stderr


def test_tables_naming_what_the_entry_lacks_and_a_table_no_entry_supplies_are_errors(kpi, returns, tmp_path):
    folder = project(tmp_path, entry("ssda903", returns / "903", ["ssd_cla_episodes", "ssd_contacts", "ssd_cla_episode"]))
    result = kpi("compute", "--project", folder, "--period", "2017-09", "--indicators", "CSC 201")
    message = " ".join(result.stderr.split())
    assert result.exit_code == 2
    assert "entry 1 (source ssda903, path " in message and "names ssd_contacts in `tables`, but its files do not hold it" in message
    assert "names 'ssd_cla_episode' in `tables`, which is not a canonical table" in message
    # the 903 could give the placements, but its `tables` leaves them out, and no other entry gives them
    folder = project(tmp_path, entry("ssda903", returns / "903", ["ssd_cla_episodes", "ssd_person"]))
    result = kpi("compute", "--project", folder, "--period", "2017-09", "--indicators", "CSC 201")
    assert result.exit_code == 2
    assert "no [[data]] entry supplies the table ssd_legal_status, and CSC 201 need it" in " ".join(result.stderr.split())


def test_data_and_source_on_the_command_line_replace_the_entries(kpi, returns, tmp_path):
    folder = project(tmp_path, THREE(returns))
    result = kpi("compute", "--project", folder, "--period", "2017-09", "--data", returns / "903", "--source", "ssda903",
                 "--indicators", "CSC 201,CSC 013", "--format", "json")
    rows = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert rows["CSC 201"]["error"] is None and "needs the table ssd_cin_episodes" in rows["CSC 013"]["error"]
    assert json.loads(result.stdout)["provenance"]["source"] == "ssda903"
    result = kpi("compute", "--project", folder, "--period", "2017-09", "--source", "ssda903")
    assert result.exit_code == 2 and "--source replaces kpi.toml's [[data]] entries only with --data" in result.stderr
    result = kpi("coverage", "--project", folder, "--source", "cin-census")  # the profile alone
    assert result.exit_code == 0 and "computable from source cin-census" in result.stderr


TABLE_NAMES = ("ssd_person", "ssd_contacts", "ssd_cin_episodes", "ref_population")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sets(st.sampled_from(TABLE_NAMES)), st.none() | st.sets(st.sampled_from(TABLE_NAMES)),
                          st.booleans()), min_size=1, max_size=3))
def test_each_table_comes_from_the_one_entry_supplying_it_or_the_entries_are_refused(tmp_path_factory, entries):
    """Each entry: the tables its files hold, its `tables` (or none), and whether its files are a copy of
    everyone else's (the same bytes: no conflict)."""
    from kpi.config import DataEntry
    from kpi.extracts import table_definitions
    from kpi.issues import KpiError
    from kpi.pipeline import Supplier, assign_tables
    from kpi.profiles import CANONICAL

    from tests.conftest import REPO

    tables = table_definitions(REPO / "schemas")
    root = tmp_path_factory.mktemp("entries")
    suppliers, folders = [], []
    for number, (held, named, same) in enumerate(entries, start=1):
        folder = root / str(number)
        folder.mkdir()
        for name in held:
            (folder / f"{name}.csv").write_text("same\n" if same else f"entry {number}\n")
        suppliers.append(Supplier(DataEntry(number, "ssd", folder, tuple(sorted(named)) if named is not None else None), CANONICAL))
        folders.append(folder)
    supplied = [held if named is None else named for held, named, _ in entries]
    lacking = any(named is not None and not named <= held for held, named, _ in entries)
    givers = {t: [n for n, s in enumerate(supplied) if t in s] for t in TABLE_NAMES}
    clash = any(len(g) > 1 and not all(entries[n][2] for n in g) for g in givers.values())
    try:
        owners, _ = assign_tables(tuple(suppliers), folders, tables)
    except KpiError as error:
        assert lacking or clash
        assert all("kpi.toml [[data]] entry" in i.message for i in error.issues)
        return
    assert not lacking and not clash
    assert owners == {t: g[0] for t, g in givers.items() if g}  # one giver, or copies of one file: the first listed
