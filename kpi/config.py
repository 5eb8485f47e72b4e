"""The project: where its definitions live, and its configuration (`kpi.toml`, SPEC §12).

Reads files; decides nothing about indicators. Every configuration key is optional.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kpi.issues import KpiError, display_path

PACKAGE_DIR = Path(__file__).resolve().parent


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
    data: Path | None = None
    query_time_limit: float = 600.0  # seconds one indicator query may run before it is stopped


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
    "data": ((str,), "a folder, e.g. \"extracts/\""),
    "query_time_limit": ((int, float), "a number of seconds, e.g. 600"),
}


@dataclass(frozen=True)
class Project:
    """A folder holding indicators/, queries/, schemas/ and an optional kpi.toml."""

    root: Path
    config: Config = field(default_factory=Config)

    @property
    def indicators_dir(self) -> Path:
        return self.root / "indicators"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

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


def open_project(root: Path | None = None) -> Project:
    """The project at `root`; by default the current folder when it holds indicators/, else the bundled one."""
    if root is None:
        root = Path.cwd() if (Path.cwd() / "indicators").is_dir() else bundled_root()
    root = Path(root)
    if not (root / "indicators").is_dir():
        raise KpiError(
            f"{display_path(root)} holds no indicators/ folder: point --project at the folder that holds "
            "indicators/, queries/ and kpi.toml"
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
        if not isinstance(value, types) or isinstance(value, bool):
            problems.append(f"{shown}: `{key}` must be {expected}, not {value!r}")
            continue
        values[key] = value
    month = values.get("fy_start_month")
    if month is not None and not 1 <= month <= 12:
        problems.append(f"{shown}: `fy_start_month` must be {_KEYS['fy_start_month'][1]}, not {month!r}")
    if values.get("disclosure_policy", "safe") not in ("safe", "seed"):
        problems.append(f"{shown}: `disclosure_policy` must be {_KEYS['disclosure_policy'][1]}, not {values['disclosure_policy']!r}")
    if values.get("round_to", 1) < 1:
        problems.append(f"{shown}: `round_to` must be {_KEYS['round_to'][1]}, not {values['round_to']!r}")
    closure = values.get("closure_days", [])
    if any(not isinstance(day, date) for day in closure):
        problems.append(f"{shown}: `closure_days` must be {_KEYS['closure_days'][1]} (dates unquoted)")
    if problems:
        raise KpiError("\n".join(problems))
    if "closure_days" in values:
        values["closure_days"] = tuple(closure)
    if "data" in values:
        values["data"] = (path.parent / str(values["data"])).resolve()
    return Config(**values)
