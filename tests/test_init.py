"""`kpi init`: a council's project that validates, tests and computes at once, whose CI and pre-commit
run `kpi validate` and `kpi test`, and which never overwrites a file."""

import tomllib

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO

BUNDLED = len(list((REPO / "indicators").glob("*.yaml")))


def test_a_new_project_holds_its_settings_ci_and_readme(kpi, tmp_path):
    target = tmp_path / "northtown"
    result = kpi("init", target, "--name", "Northtown", "--region", "North East", "--fy-start-month", "1")
    assert result.exit_code == 0, result.stderr
    config = tomllib.loads((target / "kpi.toml").read_text())
    assert config["authority_name"] == "Northtown" and config["region_name"] == "North East"
    assert config["fy_start_month"] == 1 and config["include_bundled_indicators"] is True
    assert (target / "indicators").is_dir() and not list((target / "indicators").iterdir())
    workflow = yaml.safe_load((target / ".github" / "workflows" / "kpi.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["check"]["steps"]]
    assert "kpi validate --output-format github" in steps and "kpi test" in steps
    hooks = yaml.safe_load((target / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert [h["entry"] for h in hooks] == ["kpi validate", "kpi test"]
    assert "Northtown" in (target / "README.md").read_text()
    assert "extracts/" in (target / ".gitignore").read_text()  # records about children stay out of git


def test_a_new_project_validates_tests_and_computes_the_bundled_indicators(kpi, tmp_path):
    target = tmp_path / "p"
    assert kpi("init", target, "--name", "Northtown").exit_code == 0
    assert kpi("validate", "--project", target).exit_code == 0
    tested = kpi("test", "--project", target, "CSC 038")
    assert tested.exit_code == 0 and " 0 failed" in tested.stdout
    # the council's extracts in extracts/, which kpi.toml names: here, the demo council's
    assert kpi("demo", "--out", target / "extracts").exit_code == 0
    scorecard = kpi.json("compute", "--project", target, "--period", "2017-09")
    assert scorecard["authority"] == "Northtown" and len(scorecard["indicators"]) == BUNDLED
    assert all(row["error"] is None for row in scorecard["indicators"])


def test_copied_indicators_are_the_projects_own(kpi, tmp_path):
    target = tmp_path / "p"
    assert kpi("init", target, "--copy-indicators").exit_code == 0
    assert len(list((target / "indicators").glob("*.yaml"))) == BUNDLED
    assert tomllib.loads((target / "kpi.toml").read_text())["include_bundled_indicators"] is False
    listed = kpi("list", "--project", target)
    rows = [line for line in listed.stdout.splitlines() if line.startswith("CSC ")]
    assert len(rows) == BUNDLED and all(line.rstrip().endswith("project") for line in rows)


def test_it_never_overwrites_a_file_and_writes_nothing_then(kpi, tmp_path):
    (tmp_path / "README.md").write_text("ours")
    result = kpi("init", tmp_path, "--name", "Northtown")
    assert result.exit_code == 2
    assert "never overwrites" in result.stderr and "README.md" in result.stderr
    assert (tmp_path / "README.md").read_text() == "ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_a_month_that_is_not_a_month_is_refused(kpi, tmp_path):
    result = kpi("init", tmp_path / "p", "--fy-start-month", "13")
    assert result.exit_code == 2 and "--fy-start-month" in result.stderr
    assert not (tmp_path / "p").exists()


@settings(max_examples=30, deadline=None)
@given(name=st.text(min_size=1, max_size=30), region=st.text(max_size=30))
def test_any_name_and_region_are_written_as_toml_that_reads_back(name, region, tmp_path_factory):
    from kpi.init import Settings, create_project

    target = tmp_path_factory.mktemp("p")
    create_project(target, Settings(name=name, region=region or None))
    config = tomllib.loads((target / "kpi.toml").read_text(encoding="utf-8"))
    assert config["authority_name"] == name and config.get("region_name") == (region or None)


def test_ci_installs_the_engine_from_where_it_was_installed(kpi, tmp_path, monkeypatch):
    from kpi import init

    monkeypatch.setattr(init, "engine_requirement", lambda: None)
    assert kpi("init", tmp_path / "a").exit_code == 0
    assert init.ENGINE_PLACEHOLDER in (tmp_path / "a" / ".github" / "workflows" / "kpi.yml").read_text()
    given = "kpi @ git+https://github.com/northtown/kpi@v0.2.0"
    assert kpi("init", tmp_path / "b", "--engine", given).exit_code == 0
    assert f'pip install "{given}"' in (tmp_path / "b" / ".github" / "workflows" / "kpi.yml").read_text()
