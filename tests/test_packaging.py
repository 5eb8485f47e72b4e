"""The package as installed: the module is `kpi`, `python -m kpi` runs the command line, and every
declared dependency has an honest range (its lower bound is what CI installs in its lowest run, and
nothing admits the next major version unseen)."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
LOWEST = REPO / "constraints" / "lowest.txt"


def requirements():
    """Every requirement of the package and its extras, as (name, text); the self-reference `kpi[...]` left out."""
    project = PYPROJECT["project"]
    found = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        found.extend(extra)
    return [(re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower(), r) for r in found if not r.startswith("kpi[")]


def test_python_dash_m_kpi_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "kpi", "--help"], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert "compute" in result.stdout and "validate" in result.stdout


def test_every_dependency_has_a_lower_bound_and_a_cap():
    for name, requirement in requirements():
        assert ">=" in requirement, f"{requirement}: give the lowest version that works"
        assert "<" in requirement.replace("<=", ""), f"{requirement}: cap it below the next major version"


def test_the_lowest_constraints_pin_every_lower_bound():
    pins = {}
    for line in LOWEST.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    for name, requirement in requirements():
        lower = re.search(r">=\s*([0-9][^,;\s]*)", requirement).group(1)
        assert pins.get(name) == lower, f"constraints/lowest.txt must pin {name}=={lower} (the lower bound of {requirement})"
