"""Every number traceable: the JSON records what made it (kpi's version, the definitions' fingerprint,
each extract's file, rows and checksum), and `kpi compute --reproduce` runs it again and says whether
every number matches, or what changed (kpi/provenance.py, kpi/reproduce.py)."""

import hashlib
import json

from tests.conftest import FIXTURE_PROJECT


def compute_json(kpi, tmp_path, *args):
    out = tmp_path / "scorecard.json"
    result = kpi("compute", "--period", "2017-09", "--format", "json", "--output", out, *args)
    assert result.exit_code == 0, result.stderr
    return out, json.loads(out.read_text(encoding="utf-8"))


def test_the_json_records_each_extract_read_with_its_checksum(kpi, tmp_path, extracts):
    _, scorecard = compute_json(kpi, tmp_path, "--project", FIXTURE_PROJECT, "--data", extracts)
    provenance = scorecard["provenance"]
    assert provenance["period"] == "2017-09" and provenance["source"] == "ssd"
    assert provenance["data"] == str(extracts.resolve())
    assert len(provenance["definitions"]["sha256"]) == 64
    tables = {t["table"]: t for t in provenance["tables"]}
    referrals = tables["ssd_cin_episodes"]
    assert referrals["sha256"] == hashlib.sha256((extracts / "ssd_cin_episodes.csv").read_bytes()).hexdigest()
    assert referrals["rows"] == len((extracts / "ssd_cin_episodes.csv").read_text().strip().splitlines()) - 1
    assert provenance["selection"]["indicators"] == [i["id"] for i in scorecard["indicators"]]


def test_reproduce_round_trips_on_the_demo(kpi, tmp_path):
    recorded, _ = compute_json(kpi, tmp_path, "--indicators", "CSC 0*")
    result = kpi("compute", "--reproduce", recorded)
    assert result.exit_code == 0, result.stderr
    assert "every number of" in result.stdout and "comes out the same again" in result.stdout


def test_reproduce_names_the_numbers_and_the_file_that_changed(kpi, tmp_path, extracts):
    recorded, _ = compute_json(kpi, tmp_path, "--project", FIXTURE_PROJECT, "--data", extracts)
    referrals = extracts / "ssd_cin_episodes.csv"
    lines = referrals.read_text(encoding="utf-8").splitlines()
    referrals.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one referral fewer
    result = kpi("compute", "--reproduce", recorded, "--project", FIXTURE_PROJECT)
    assert result.exit_code == 1
    assert "TST 001" in result.stdout and "then," in result.stdout and "now" in result.stdout
    assert "table ssd_cin_episodes" in result.stdout and "the file's contents differ" in result.stdout


def test_reproduce_says_when_the_definitions_changed(kpi, tmp_path, project, extracts):
    recorded, _ = compute_json(kpi, tmp_path, "--project", project, "--data", extracts)
    path = project / "indicators" / "tst_002.yaml"
    path.write_text(path.read_text().replace("<= 10", "<= 11"), encoding="utf-8")
    result = kpi("compute", "--reproduce", recorded, "--project", project)
    assert result.exit_code == 1
    assert "TST 002" in result.stdout
    assert "the definitions (indicators/, queries/, the extract tables or the profile) have changed" in result.stdout


def test_reproduce_refuses_a_file_without_provenance(kpi, tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"period": "2017-09", "indicators": []}))
    result = kpi("compute", "--reproduce", plain)
    assert result.exit_code == 2 and "holds no provenance record" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("id,title\n")
    result = kpi("compute", "--reproduce", broken)
    assert result.exit_code == 2 and "cannot be read as JSON" in result.stderr
    result = kpi("compute", "--reproduce", tmp_path / "missing.json")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_compute_without_period_or_reproduce_says_what_is_missing(kpi):
    result = kpi("compute")
    assert result.exit_code == 2 and "--period is missing" in result.stderr
