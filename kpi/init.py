"""`kpi init`: a council's own project folder: kpi.toml, indicators/ (empty, or a copy of the bundled
ones to adapt), a CI workflow and a pre-commit configuration that run `kpi validate` and `kpi test`,
and a README for the council's team. The files are templates in project_template/.

It never overwrites a file: when any file it would write exists, it writes nothing. It does not prompt
(the command line does, on a terminal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from string import Template

from kpi.atomic import write_atomically
from kpi.config import bundled_root
from kpi.issues import KpiError, display_path

TEMPLATES = Path(__file__).resolve().parent / "project_template"
# template file → where it goes in the project (dot files are kept undotted in the package)
FILES = {
    "kpi.toml": "kpi.toml",
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
    "github-workflow.yml": ".github/workflows/kpi.yml",
}
# Where CI installs the engine from when the installed copy does not say (no published package yet).
ENGINE_PLACEHOLDER = "kpi @ git+https://github.com/YOUR-ORGANISATION/kpi@v0.1.0"


@dataclass(frozen=True)
class Settings:
    """What `kpi init` writes into the new project."""

    name: str | None = None
    region: str | None = None
    fy_start_month: int = 4
    copy_indicators: bool = False
    engine: str | None = None  # the requirement CI installs; default: where this engine came from


def engine_requirement() -> str | None:
    """`kpi @ git+URL@commit` when this engine was installed from a git URL (pip records it), else None.

    A clone on this machine (file://) is not where CI can install from: None then too.
    """
    try:
        recorded = metadata.distribution("kpi").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not recorded:
        return None
    origin = json.loads(recorded)
    vcs = origin.get("vcs_info") or {}
    if vcs.get("vcs") != "git" or not origin.get("url") or origin["url"].startswith("file:"):
        return None
    return f"kpi @ git+{origin['url']}@{vcs.get('commit_id') or vcs.get('requested_revision')}"


def planned_files(target: Path, settings: Settings) -> dict[Path, str]:
    """Each file of the new project and its text."""
    if not 1 <= settings.fy_start_month <= 12:
        raise KpiError(f"--fy-start-month must be a month number from 1 to 12 (4 = April), not {settings.fy_start_month}")
    engine = settings.engine or engine_requirement()
    values = {
        "authority_line": _toml_line("authority_name", settings.name, "the scorecard's heading"),
        "region_line": _toml_line("region_name", settings.region, "the label of the region benchmark"),
        "fy_start_month": str(settings.fy_start_month),
        "include_bundled": "false" if settings.copy_indicators else "true",
        "bundled_note": ("copied into indicators/, to adapt: the copies are this project's own"
                         if settings.copy_indicators else
                         "computed too, unless a file in indicators/ has the same id"),
        "engine": engine or ENGINE_PLACEHOLDER,
        "engine_note": ("where the engine is installed from" if engine else
                        "replace with where your council installs the engine from: a git URL with a tag, or a wheel"),
        "title": f"{settings.name} children's social care KPIs" if settings.name else "Children's social care KPIs",
        "owner": settings.name or "the council",
    }
    planned = {
        target / where: Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)
        for name, where in FILES.items()
    }
    # Editors complete and check indicator files against the schema their first line names.
    planned[target / "schemas" / "indicator.schema.json"] = (bundled_root() / "schemas" / "indicator.schema.json").read_text(encoding="utf-8")
    if settings.copy_indicators:
        for path in sorted((bundled_root() / "indicators").glob("*.yaml")):
            planned[target / "indicators" / path.name] = path.read_text(encoding="utf-8")
    return planned


def create_project(target: Path, settings: Settings) -> list[Path]:
    """Write the project into `target` (created if needed); the files written, in order.

    Refuses (KpiError, nothing written) when any of those files exists already.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise KpiError(f"{display_path(target)} is a file: give a folder for the new project")
    planned = planned_files(target, settings)
    existing = [path for path in planned if path.exists()]
    if existing:
        shown = ", ".join(display_path(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise KpiError(f"{display_path(target)} already holds {shown}: kpi init never overwrites a file, "
                       "so nothing was written (choose an empty folder, or move those files away)")
    for path, text in planned.items():
        write_atomically(path, lambda temporary, text=text: temporary.write_text(text, encoding="utf-8"))
    for folder in ("indicators", "queries", "extracts"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    return list(planned)


def _toml_line(key: str, value: str | None, meaning: str) -> str:
    if value is None:
        return f'# {key} = "..."   # {meaning}'
    return f"{key} = {toml_string(value)}   # {meaning}"


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = "".join(
        "\\" + ch if ch in '"\\' else f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch
        for ch in value
    )
    return f'"{escaped}"'


def next_steps(target: Path, written: list[Path], settings: Settings) -> str:
    """What `kpi init` tells the analyst: what it wrote, and the commands to run next."""
    shown = display_path(target)
    own = [p for p in written if p.parent.name != "indicators"]
    lines = [f"wrote {len(written)} files in {shown}:"] + [f"  {display_path(p)}" for p in own]
    if settings.copy_indicators:
        lines.append(f"  and {len(written) - len(own)} indicators in {display_path(target / 'indicators')}")
    if not (settings.engine or engine_requirement()):
        lines.append(f"edit {display_path(target / '.github/workflows/kpi.yml')}: say where CI installs the engine from")
    lines.append(("next" if shown == "." else f"next, in {shown}") + ": put the extracts in extracts/, then")
    lines += ["  kpi check-data", "  kpi compute --period YYYY-MM --output out/scorecard.html"]
    return "\n".join(lines) + "\n"
