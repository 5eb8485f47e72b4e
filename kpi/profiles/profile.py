"""A source profile as data: profiles/*.yaml read with positions, checked against their JSON Schema,
merged with what they extend and with kpi.toml's `[profile]`, and checked against the canonical tables.

Reads files and decides nothing about data; applying a profile is apply.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from kpi import yamldoc
from kpi.config import Project, bundled_root
from kpi.extracts import Table, table_definitions
from kpi.issues import Issue, KpiError, display_path

DEFAULT_SOURCE = "ssd"
PROFILE_SUFFIX = ".yaml"
SCHEMA_FILE = "profile.schema.json"


@dataclass(frozen=True)
class Flag:
    """A boolean column read from an outcome column: a JSON key (any of `json_keys`), or one of
    `list_items` among a comma-separated list of step descriptions."""

    source: str
    json_keys: tuple[str, ...] = ()
    list_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derived:
    """A column the source lacks: Y/N from a prefix (`starts_with`), a code from a value map of another
    column (`values`), or taken from another table through a key (`lookup`, after every table loaded)."""

    source: str | None = None
    starts_with: str | None = None
    values: Mapping[str, tuple[str, ...]] | None = None
    lookup: str | None = None
    match: tuple[str, str] | None = None  # (this table's column, the looked-up table's column)
    take: str | None = None


@dataclass(frozen=True)
class Profile:
    """One source profile, merged with what it extends and the project's overrides (kpi.toml)."""

    name: str
    description: str
    files: tuple[str, ...]
    null_markers: tuple[str, ...] = ()
    null_dates: tuple[date, ...] = ()
    renames: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    value_maps: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]] = field(default_factory=dict)
    flags: Mapping[str, Mapping[str, Flag]] = field(default_factory=dict)
    derived: Mapping[str, Mapping[str, Derived]] = field(default_factory=dict)
    keep_rows: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    no_source: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    no_source_tables: tuple[str, ...] = ()
    expected_codes: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    reader: str | None = None  # a statutory return, read by kpi/returns' reader instead of as tables
    approximations: Mapping[str, str] = field(default_factory=dict)  # indicator id → how it is approximate
    refused: Mapping[str, str] = field(default_factory=dict)  # indicator id → what the source never holds that it counts
    optional_tables: tuple[str, ...] = ()  # of no_source_tables, those the source's files may hold (e.g. a list of Annex A)

    def lookup_tables(self, tables: Iterable[str]) -> set[str]:
        """The tables the lookups of `tables` read (they must be loaded too)."""
        return {d.lookup for t in tables for d in self.derived.get(t, {}).values() if d.lookup}

    def summary(self) -> list[str]:
        """What the profile maps, a line each (for `kpi sources`)."""
        lines = [f"read by the {self.reader} reader (docs/returns.md)"] if self.reader else []
        if self.null_markers or self.null_dates:
            empty = [repr(m) for m in self.null_markers] + [d.isoformat() for d in self.null_dates]
            lines.append(f"read as empty: {', '.join(empty)}")
        for table, renames in sorted(self.renames.items()):
            lines += [f"renamed: {table}.{old} → {new}" for old, new in sorted(renames.items())]
        for table, columns in sorted(self.value_maps.items()):
            lines += [f"value map: {table}.{c} ({len(codes)} codes)" for c, codes in sorted(columns.items())]
        for table, flags in sorted(self.flags.items()):
            for column, flag in sorted(flags.items()):
                how = f"JSON key {' or '.join(flag.json_keys)}" if flag.json_keys else f"list item {' or '.join(map(repr, flag.list_items))}"
                lines.append(f"flag: {table}.{column} from {flag.source} ({how})")
        for table, derived in sorted(self.derived.items()):
            for column, rule in sorted(derived.items()):
                if rule.lookup:
                    how = f"{rule.lookup}.{rule.take} where {rule.match[1]} = {rule.match[0]}"
                elif rule.starts_with:
                    how = f"{rule.source} starting {rule.starts_with!r}"
                else:
                    how = f"value map of {rule.source}"
                lines.append(f"derived: {table}.{column} from {how}")
        for table, (column, values) in sorted(self.keep_rows.items()):
            lines.append(f"rows kept: {table} where {column} is {' or '.join(values)}")
        for table, columns in sorted(self.no_source.items()):
            lines.append(f"no source: {table}.{', '.join(columns)}")
        if self.no_source_tables:
            lines.append(f"no source: tables {', '.join(self.no_source_tables)}")
        if self.approximations:
            lines.append(f"approximate: {', '.join(sorted(self.approximations))} (`kpi coverage` says how)")
        if self.refused:
            lines.append(f"refused, as it would count what the source never holds: {', '.join(sorted(self.refused))}")
        return lines or ["the canonical tables as they are: nothing renamed or mapped"]


CANONICAL = Profile(DEFAULT_SOURCE, "the canonical tables, read as they are", ())


def profile_dirs(project: Project) -> list[Path]:
    """Where profiles are looked for: the project's own profiles/ first, then the bundled ones."""
    own = project.root / "profiles"
    bundled = bundled_root() / "profiles"
    return [d for d in dict.fromkeys([own, bundled]) if d.is_dir()]


def available(project: Project) -> dict[str, Path]:
    """The profiles a user may choose, by name (building blocks, named `_…`, are not listed)."""
    found: dict[str, Path] = {}
    for folder in reversed(profile_dirs(project)):
        for path in sorted(folder.glob(f"*{PROFILE_SUFFIX}")):
            found[path.stem] = path
    return {name: path for name, path in sorted(found.items()) if not name.startswith("_")}


def load_profile(project: Project, name: str | None = None) -> Profile:
    """The profile `name` (default: kpi.toml's `source`, else `ssd`), with kpi.toml's `[profile]` on top
    (the overrides of the profile kpi.toml's `source` names, or of any when it names none). A profile
    with a `reader` is a statutory return: what its reader cannot give has no source."""
    name = name or project.config.source or DEFAULT_SOURCE
    choices = available(project)
    if name not in choices:
        raise KpiError(f"there is no source profile {name!r}: choose one of {', '.join(choices)} (`kpi sources` lists them)")
    merged, files = _resolve(project, name, ())
    overrides = project.config.profile or {} if project.config.source in (None, name) else {}
    if overrides:
        problems = _schema_problems(yamldoc.Document(yamldoc.plain(overrides)), "kpi.toml [profile]", partial=True)
        if problems:
            raise KpiError("the `[profile]` overrides in kpi.toml are not valid", problems)
        merged = merge(merged, yamldoc.plain(overrides))
        files = files + ("kpi.toml",)
    tables = table_definitions(project.schemas_dir)
    profile = _build(name, merged, files)
    if profile.reader is not None:
        profile = _with_reader(profile, tables)
    problems = check_against(profile, tables)
    if problems:
        raise KpiError(f"the source profile {name} names what the extract tables do not have", problems)
    return profile


def _with_reader(profile: Profile, tables: Mapping) -> Profile:
    """A return's profile with what its reader (kpi/returns/) cannot give as having no source: the
    columns and tables it never fills, and those the files may lack (e.g. a list of Annex A)."""
    from kpi import returns  # only when a return is read: the readers need polars

    if profile.reader not in returns.RETURNS:
        raise KpiError(f"the source profile {' + '.join(profile.files)} names the reader {profile.reader!r}, which kpi does not have: "
                       f"write one of {', '.join(returns.names())}")
    columns, missing = returns.no_source(profile.reader, tables)
    no_source = {t: tuple(dict.fromkeys(profile.no_source.get(t, ()) + c)) for t, c in (profile.no_source | columns).items()}
    optional = returns.may_be_absent(profile.reader) + tuple(t for t in tables if t.startswith("ref_"))
    return replace(profile, no_source=no_source, no_source_tables=tuple(dict.fromkeys(profile.no_source_tables + missing)),
                   optional_tables=tuple(dict.fromkeys(profile.optional_tables + optional)))


def _resolve(project: Project, name: str, chain: tuple[str, ...]) -> tuple[dict, tuple[str, ...]]:
    if name in chain:
        raise KpiError(f"source profiles extend each other in a circle: {' → '.join(chain + (name,))}")
    path = next((d / f"{name}{PROFILE_SUFFIX}" for d in profile_dirs(project) if (d / f"{name}{PROFILE_SUFFIX}").exists()), None)
    if path is None:
        raise KpiError(f"{chain[-1]} extends the source profile {name!r}, which does not exist")
    data = read_profile_file(path)
    base = data.pop("extends", None)
    if base is None:
        return data, (display_path(path),)
    parent, files = _resolve(project, base, chain + (name,))
    return merge(parent, data), files + (display_path(path),)


def read_profile_file(path: Path) -> dict:
    """One profile file, checked against profiles/profile.schema.json; a bad one is a KpiError naming
    the file, line and key (read like every definition file: kpi/yamldoc.py)."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KpiError(f"cannot read the profile {shown}: {error}") from None
    document, problems = yamldoc.parse(text, shown)
    if document is None:
        raise KpiError(f"the source profile {shown} is not valid YAML", problems)
    if not isinstance(document.data, dict):
        raise KpiError(f"{shown}: a profile is a mapping of keys (description, value_maps, …)")
    problems += _schema_problems(document, shown)
    if problems:
        raise KpiError(f"the source profile {shown} is not valid", problems)
    return yamldoc.plain(document.data)


@lru_cache(maxsize=1)
def profile_schema() -> dict:
    """The JSON Schema every profile file is checked against."""
    return json.loads((bundled_root() / "profiles" / SCHEMA_FILE).read_text(encoding="utf-8"))


def _schema_problems(document: yamldoc.Document, shown: str, partial: bool = False) -> list[Issue]:
    schema = dict(profile_schema())
    if partial:  # kpi.toml's overrides need no description of their own
        schema["required"] = []
    return yamldoc.schema_issues(document, schema, shown, "profiles/profile.schema.json")


def merge(base: dict, override: dict, path: tuple = ()) -> dict:
    """`override` on top of `base`: mappings merge key by key; a value map's descriptions add to the
    base's (a council's own descriptions join the shipped ones); any other value replaces."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge(old, value, path + (key,))
        elif path[:1] == ("value_maps",) and len(path) == 3 and isinstance(old, list) and isinstance(value, list):
            merged[key] = list(dict.fromkeys(old + value))
        else:
            merged[key] = value
    return merged


def _build(name: str, data: dict, files: tuple[str, ...]) -> Profile:
    flags = {t: {c: Flag(f["from"], tuple(f.get("json_keys", ())), tuple(f.get("list_items", ()))) for c, f in cols.items()}
             for t, cols in data.get("flags", {}).items()}
    derived = {}
    for table, columns in data.get("derived", {}).items():
        derived[table] = {}
        for column, rule in columns.items():
            values = {code: tuple(d) for code, d in rule["values"].items()} if "values" in rule else None
            match = next(iter(rule["match"].items())) if "match" in rule else None
            derived[table][column] = Derived(rule.get("from"), rule.get("starts_with"), values, rule.get("lookup"), match, rule.get("take"))
    value_maps = {t: {c: {code: tuple(d) for code, d in codes.items()} for c, codes in cols.items()}
                  for t, cols in data.get("value_maps", {}).items()}
    for table, columns in value_maps.items():
        for column, codes in columns.items():
            _check_unambiguous(name, f"{table}.{column}", codes)
    return Profile(
        name=name,
        description=data.get("description", ""),
        files=files,
        null_markers=tuple(data.get("null_markers", ())),
        null_dates=tuple(date.fromisoformat(d) for d in data.get("null_dates", ())),
        renames={t: dict(r) for t, r in data.get("renames", {}).items()},
        value_maps=value_maps,
        flags=flags,
        derived=derived,
        keep_rows={t: (c, tuple(v)) for t, rule in data.get("keep_rows", {}).items() for c, v in rule.items()},
        no_source={t: tuple(c) for t, c in data.get("no_source", {}).items()},
        no_source_tables=tuple(data.get("no_source_tables", ())),
        expected_codes={t: {c: tuple(codes) for c, codes in cols.items()} for t, cols in data.get("expected_codes", {}).items()},
        reader=data.get("reader"),
        approximations=dict(data.get("approximations", {})),
        refused=dict(data.get("refused", {})),
    )


def _check_unambiguous(profile: str, where: str, codes: Mapping[str, tuple[str, ...]]) -> None:
    seen: dict[str, str] = {}
    for code, descriptions in codes.items():
        for text in (code, *descriptions):
            key = normalise(text)
            if seen.get(key, code) != code:
                raise KpiError(f"the source profile {profile}: in the value map of {where}, {text!r} means both "
                               f"{seen[key]} and {code}: keep it under one code")
            seen[key] = code


def normalise(text: str) -> str:
    """How values are compared with a map: lower case, spaces trimmed and runs of spaces made one."""
    return " ".join(str(text).lower().split())


def check_against(profile: Profile, tables: Mapping[str, Table]) -> list[Issue]:
    """Names in the profile that are not canonical tables or columns (a typo would silently do nothing)."""
    issues = []
    where = " + ".join(profile.files)

    def known(table: str, columns: Iterable[str], what: str) -> None:
        if table not in tables:
            issues.append(Issue("profile", f"{what} names the table {table}, which is not an extract table", where))
            return
        for column in columns:
            if tables[table].column(column) is None:
                issues.append(Issue("profile", f"{what} names {table}.{column}, which is not a column of the canonical table", where))

    for table, renames in profile.renames.items():
        known(table, renames.values(), "a rename")
    for section, entries in (("a value map", profile.value_maps), ("a flag", profile.flags), ("a derived column", profile.derived),
                             ("no_source", {t: dict.fromkeys(c) for t, c in profile.no_source.items()})):
        for table, columns in entries.items():
            known(table, columns, section)
    for table in profile.no_source_tables:
        known(table, (), "no_source_tables")
    for table, columns in profile.expected_codes.items():
        known(table, columns, "expected_codes")
        for column, codes in columns.items():
            unknown = [c for c in codes if c not in profile.value_maps.get(table, {}).get(column, {})]
            if unknown:
                issues.append(Issue("profile", f"expected_codes names {', '.join(unknown)} for {table}.{column}, which its value map lacks", where))
    for table, (column, _) in profile.keep_rows.items():
        known(table, (column,), "keep_rows")
    for columns in profile.derived.values():
        for rule in columns.values():
            if rule.lookup:
                known(rule.lookup, (rule.match[1], rule.take), "a lookup")
    return issues
