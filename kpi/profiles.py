"""Source profiles: how one source's files (the SSD as SystemC, Mosaic or Eclipse export it, or kpi's own
canonical tables) become exactly the canonical tables of schemas/extracts.yaml, as data (profiles/*.yaml).

A profile declares null markers and placeholder dates, renames, value maps, outcome flags, derived
columns, rows kept and what the source has no data for; this module applies any profile the same way,
as SQL over each staged table, and reports what it could not map. It knows no CMS and no indicator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import duckdb
import jsonschema
import yaml

from kpi.config import Project, bundled_root
from kpi.extracts import Table, parse_expression, quote, table_definitions
from kpi.issues import Issue, KpiError, display_path

DEFAULT_SOURCE = "ssd"
PROFILE_SUFFIX = ".yaml"
SCHEMA_FILE = "profile.schema.json"
TRUE_WORDS = ("Y", "YES", "T", "TRUE", "1")
FALSE_WORDS = ("N", "NO", "F", "FALSE", "0")
UNMAPPED_SHOWN = 10  # distinct unmapped values named per column in warnings


# --- the profile ------------------------------------------------------------------------------------

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

    def lookup_tables(self, tables: Iterable[str]) -> set[str]:
        """The tables the lookups of `tables` read (they must be loaded too)."""
        return {d.lookup for t in tables for d in self.derived.get(t, {}).values() if d.lookup}

    def summary(self) -> list[str]:
        """What the profile maps, a line each (for `kpi sources`)."""
        lines = []
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
        return lines or ["the canonical tables as they are: nothing renamed or mapped"]


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
    """The profile `name` (default: kpi.toml's `source`, else `ssd`), with kpi.toml's `[profile]` on top."""
    name = name or project.config.source or DEFAULT_SOURCE
    choices = available(project)
    if name not in choices:
        raise KpiError(f"there is no source profile {name!r}: choose one of {', '.join(choices)} (`kpi sources` lists them)")
    merged, files = _resolve(project, name, ())
    overrides = project.config.profile or {}
    if overrides:
        problems = _schema_problems(overrides, "kpi.toml [profile]", {}, partial=True)
        if problems:
            raise KpiError("the `[profile]` overrides in kpi.toml are not valid", problems)
        merged = merge(merged, _plain(overrides))
        files = files + ("kpi.toml",)
    profile = _build(name, merged, files)
    problems = check_against(profile, table_definitions(project.schemas_dir))
    if problems:
        raise KpiError(f"the source profile {name} names what the extract tables do not have", problems)
    return profile


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
    the file, line and key."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise KpiError(f"{shown}{f':{mark.line + 1}' if mark else ''}: the profile is not valid YAML: {error.problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KpiError(f"cannot read the profile {shown}: {error}") from None
    if not isinstance(data, dict):
        raise KpiError(f"{shown}: a profile is a mapping of keys (description, value_maps, …)")
    data = _plain(data)
    lines: dict[tuple, int] = {}
    _positions(node, (), lines)
    problems = _schema_problems(data, shown, lines)
    if problems:
        raise KpiError(f"the source profile {shown} is not valid", problems)
    return data


def _plain(value: Any) -> Any:
    """YAML/TOML values as JSON ones: dates as ISO text, keys as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _positions(node: yaml.Node | None, path: tuple, lines: dict[tuple, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = path + (key.value,)
            lines[here] = key.start_mark.line + 1
            _positions(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _positions(item, path + (index,), lines)


@lru_cache(maxsize=1)
def profile_schema() -> dict:
    """The JSON Schema every profile file is checked against."""
    return json.loads((bundled_root() / "profiles" / SCHEMA_FILE).read_text(encoding="utf-8"))


def _schema_problems(data: dict, shown: str, lines: Mapping[tuple, int], partial: bool = False) -> list[Issue]:
    schema = dict(profile_schema())
    if partial:  # kpi.toml's overrides need no description of their own
        schema["required"] = []
    validator = jsonschema.Draft202012Validator(schema)
    issues = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        key = ".".join(str(p) for p in path) or "(top level)"
        line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None)
        if error.validator == "additionalProperties":
            allowed = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in allowed]
            line = lines.get(path + (extra[0],), line) if extra else line
            message = f"`{key}`: {', '.join(map(repr, extra))} is not a key here: the keys are {', '.join(sorted(allowed))}"
        elif error.validator == "oneOf":
            message = f"`{key}`: must be exactly one of the forms the profile format allows (see docs/sources.md)"
        else:
            message = f"`{key}`: {error.message}"
        issues.append(Issue("profile", message, shown, line))
    return issues


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


# --- applying a profile while loading -----------------------------------------------------------------

@dataclass(frozen=True)
class Unmapped:
    """Values of a mapped column that no map knows."""

    table: str
    column: str
    value: str
    rows: int


@dataclass(frozen=True)
class Note:
    """Rows of a table the profile could not read as it says (a lookup, a flag, rows kept), and why."""

    table: str
    check: str  # not-derived | flag-not-found | no-rows-kept
    rows: int
    message: str


@dataclass
class LoadReport:
    """What a profile found while the tables loaded: absent columns and tables, unmapped values."""

    absent: dict[str, set[str]] = field(default_factory=dict)     # table → columns loaded as null
    absent_tables: set[str] = field(default_factory=set)          # tables loaded empty
    unmapped: list[Unmapped] = field(default_factory=list)
    lookups: dict[str, list[str]] = field(default_factory=dict)   # table → columns to fill after loading
    notes: list[Note] = field(default_factory=list)               # rows the profile could not read as it says

    def absent_columns(self) -> list[tuple[str, str]]:
        return sorted((t, c) for t, cs in self.absent.items() for c in cs)


def optional_columns(profile: Profile, table: Table) -> set[str]:
    """The columns of `table` that may be missing from a file: extension ones, and those the profile
    says have no source or derives through a lookup."""
    columns = {c.name for c in table.columns if c.extension}
    columns |= set(profile.no_source.get(table.name, ()))
    columns |= {c for c, d in profile.derived.get(table.name, {}).items() if d.lookup}
    return columns


def adapter(profile: Profile, report: LoadReport):
    """The hook extracts.load_table calls on each staged table: the profile's SQL applied in place."""
    def adapt(con: duckdb.DuckDBPyConnection, raw: str, table: Table) -> list[Issue]:
        try:
            _adapt(con, raw, table, profile, report)
        except duckdb.Error as error:
            return [Issue("profile", f"the source profile {profile.name} cannot be applied to {table.name}: {str(error).splitlines()[0]}", " + ".join(profile.files))]
        return []
    return adapt


def _text(expression: str) -> str:
    return f"NULLIF(trim(CAST({expression} AS VARCHAR)), '')"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _adapt(con: duckdb.DuckDBPyConnection, raw: str, table: Table, profile: Profile, report: LoadReport) -> None:
    stored = {row[0]: row[1] for row in con.execute(f"DESCRIBE {quote(raw)}").fetchall() if row[0] != "_kpi_row"}
    rules = (profile.renames, profile.value_maps, profile.flags, profile.derived, profile.keep_rows)
    if not (profile.null_markers or profile.null_dates or any(table.name in r for r in rules)) \
            and optional_columns(profile, table) <= set(stored):
        return  # nothing to do: the staged rows are the canonical ones (no copy of a large table)
    renames = profile.renames.get(table.name, {})
    # 1. names and null markers
    first = ["_kpi_row"]
    names: list[str] = []
    for column, kind in stored.items():
        name = renames.get(column, column)
        if name != column and name in stored:  # the file holds the canonical column too: that one wins
            name = column
        if name in names:
            continue
        expression = quote(column)
        if kind == "VARCHAR" and profile.null_markers:
            markers = ", ".join(_literal(m) for m in profile.null_markers)
            expression = f"CASE WHEN trim({expression}) IN ({markers}) THEN NULL ELSE {expression} END"
        first.append(f"{expression} AS {quote(name)}")
        names.append(name)
    stage = f"(SELECT {', '.join(first)} FROM {quote(raw)})"

    # 2. placeholder dates, value maps, flags, derived and absent columns
    maps = profile.value_maps.get(table.name, {})
    second = ["_kpi_row"]
    for name in names:
        column = table.column(name)
        expression = quote(name)
        if column is not None and column.type in ("date", "timestamp") and profile.null_dates:
            days = ", ".join(f"DATE '{d.isoformat()}'" for d in profile.null_dates)
            expression = f"CASE WHEN CAST({parse_expression(name, 'date')} AS DATE) IN ({days}) THEN NULL ELSE {expression} END"
        if name in maps:
            _count_unmapped(con, stage, table.name, name, maps[name], report)
            _check_expected(con, stage, table.name, name, maps[name], profile.expected_codes.get(table.name, {}).get(name, ()), report)
            expression = f"coalesce({map_sql(quote(name), maps[name])}, {expression})"
        second.append(f"{expression} AS {quote(name)}")
    produced = set(names)
    for column, flag in profile.flags.get(table.name, {}).items():
        if column in produced:
            continue  # the file holds the column itself
        if flag.source in produced:
            second.append(f"{flag_sql(quote(flag.source), flag)} AS {quote(column)}")
            produced.add(column)
            unread = con.execute(f"SELECT count(*) FROM {stage} WHERE {_text(quote(flag.source))} IS NOT NULL "
                                 f"AND {flag_sql(quote(flag.source), flag)} IS NULL").fetchone()[0]
            if unread:
                what = f"none of the keys {', '.join(flag.json_keys)} with a Y/N value" if flag.json_keys else "no readable list"
                report.notes.append(Note(table.name, "flag-not-found", unread,
                    f"{table.name}.{column}: {unread:,} rows of {flag.source} hold {what}, so the flag is unknown there "
                    f"(counted as not set): check the source's outcome keys under [profile.flags.{table.name}.{column}]"))
    for column, rule in profile.derived.get(table.name, {}).items():
        if column in produced:
            continue
        if rule.lookup:
            report.lookups.setdefault(table.name, []).append(column)
        elif rule.source in produced:
            if rule.starts_with is not None:
                prefix = _literal(rule.starts_with.upper() + "%")
                second.append(f"CASE WHEN upper(trim({quote(rule.source)})) LIKE {prefix} THEN 'Y' ELSE 'N' END AS {quote(column)}")
            else:
                _count_unmapped(con, stage, table.name, rule.source, rule.values, report)
                second.append(f"{map_sql(quote(rule.source), rule.values)} AS {quote(column)}")
            produced.add(column)
    optional = optional_columns(profile, table)
    for column in table.columns:
        if column.name not in produced and column.name in optional:
            second.append(f"CAST(NULL AS VARCHAR) AS {quote(column.name)}")
            if column.name not in report.lookups.get(table.name, ()):
                report.absent.setdefault(table.name, set()).add(column.name)
    where = ""
    if table.name in profile.keep_rows:
        column, values = profile.keep_rows[table.name]
        if column in produced:
            condition = f"upper(trim(CAST({quote(column)} AS VARCHAR))) IN ({', '.join(_literal(v.upper()) for v in values)})"
            where = f" WHERE {condition}"
            total, kept = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {condition}) FROM {stage}").fetchone()
            if total and not kept:
                report.notes.append(Note(table.name, "no-rows-kept", total,
                    f"{table.name}: no row has {column} {' or '.join(values)}, so the profile keeps none of its {total:,} rows: "
                    f"set the values to keep under [profile.keep_rows.{table.name}] in kpi.toml"))
    adapted = f"{raw}_profiled"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(adapted)} AS SELECT {', '.join(second)} FROM {stage}{where}")
    con.execute(f"DROP TABLE {quote(raw)}")
    con.execute(f"ALTER TABLE {quote(adapted)} RENAME TO {quote(raw)}")


def map_sql(value: str, codes: Mapping[str, Iterable[str]]) -> str:
    """SQL giving the code a value means (NULL when no map knows it): the code itself or one of its
    descriptions (case and spaces aside), or the code at the start of the value or in brackets."""
    text = f"lower(regexp_replace(trim(CAST({value} AS VARCHAR)), '\\s+', ' ', 'g'))"
    exact = []
    for code, descriptions in codes.items():
        words = ", ".join(_literal(normalise(d)) for d in (code, *descriptions))
        exact.append(f"WHEN {text} IN ({words}) THEN {_literal(code)}")
    inside = []
    for code in sorted(codes, key=len, reverse=True):
        escaped = re.escape(normalise(code)).replace("'", "''")
        inside.append(f"WHEN regexp_matches({text}, '^{escaped}([^a-z0-9]|$)|\\({escaped}\\)') THEN {_literal(code)}")
    return f"(CASE {' '.join(exact + inside)} END)"


def flag_sql(value: str, flag: Flag) -> str:
    """SQL reading a flag as 'Y' / 'N' (NULL when not recorded), never failing on invalid JSON: a JSON
    parse wrapped in try(), then a regular expression over the text (cut or unescaped JSON)."""
    if flag.list_items:
        # ",item one,item two," (lower case, single spaces): an item is listed when ",item," is inside
        listed = (f"(',' || regexp_replace(lower(regexp_replace(trim(CAST({value} AS VARCHAR)), '\\s+', ' ', 'g')), "
                  f"'\\s*,\\s*', ',', 'g') || ',')")
        found = " OR ".join(f"contains({listed}, {_literal(',' + normalise(i) + ',')})" for i in flag.list_items)
        return f"CASE WHEN {_text(value)} IS NULL THEN NULL WHEN {found} THEN 'Y' ELSE 'N' END"
    parsed = [f"try(json_extract_string(CAST({value} AS VARCHAR), {_literal('$.' + k)}))" for k in flag.json_keys]
    keys = "|".join(flag.json_keys)
    pattern = _literal(f'(?i)"(?:{keys})"\\s*:\\s*"?([a-z0-9]*)')
    found = f"upper(trim(coalesce({', '.join(f'NULLIF({p}, {chr(39)}{chr(39)})' for p in parsed)}, NULLIF(regexp_extract(CAST({value} AS VARCHAR), {pattern}, 1), ''))))"
    yes = ", ".join(_literal(w) for w in TRUE_WORDS)
    no = ", ".join(_literal(w) for w in FALSE_WORDS)
    return f"CASE WHEN {found} IN ({yes}) THEN 'Y' WHEN {found} IN ({no}) THEN 'N' END"


def _count_unmapped(con: duckdb.DuckDBPyConnection, stage: str, table: str, column: str,
                    codes: Mapping[str, Iterable[str]], report: LoadReport) -> None:
    rows = con.execute(
        f"SELECT CAST({quote(column)} AS VARCHAR) AS v, count(*) FROM {stage} "
        f"WHERE {_text(quote(column))} IS NOT NULL AND {map_sql(quote(column), codes)} IS NULL "
        f"GROUP BY v ORDER BY count(*) DESC, v"
    ).fetchall()
    report.unmapped.extend(Unmapped(table, column, value, count) for value, count in rows)


def _check_expected(con: duckdb.DuckDBPyConnection, stage: str, table: str, column: str,
                    codes: Mapping[str, Iterable[str]], expected: Iterable[str], report: LoadReport) -> None:
    """A code the indicators count that no row means (e.g. no check reads as an initial health
    assessment) would make them count none: say so."""
    expected = tuple(expected)
    if not expected:
        return
    found = {row[0] for row in con.execute(f"SELECT DISTINCT {map_sql(quote(column), codes)} FROM {stage}").fetchall()}
    total = con.execute(f"SELECT count(*) FROM {stage} WHERE {_text(quote(column))} IS NOT NULL").fetchone()[0]
    for code in expected:
        if total and code not in found:
            report.notes.append(Note(table, "code-not-found", total,
                f"{table}.{column}: none of its {total:,} rows means {code}, so the indicators that count {code} count none: "
                f"if your system has another description for it, add it under [profile.value_maps.{table}.{column}] in kpi.toml"))


def fill_lookups(con: duckdb.DuckDBPyConnection, profile: Profile, report: LoadReport, loaded: set[str]) -> None:
    """Derive the columns taken from another table (e.g. a person id through the plan), once every table
    is loaded. A column whose key or table is not there stays null and counts as absent."""
    for table, columns in sorted(report.lookups.items()):
        if table not in loaded:
            continue
        present = {row[0] for row in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
        for column in columns:
            rule = profile.derived[table][column]
            here, there = rule.match
            if rule.lookup not in loaded or here not in present:
                report.absent.setdefault(table, set()).add(column)
                continue
            con.execute(
                f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT t.* REPLACE (coalesce(t.{quote(column)}, l.v) AS {quote(column)}) "
                f"FROM {quote(table)} t LEFT JOIN (SELECT {quote(there)} AS k, min({quote(rule.take)}) AS v FROM {quote(rule.lookup)} "
                f"WHERE {quote(there)} IS NOT NULL GROUP BY 1) l ON l.k = CAST(t.{quote(here)} AS VARCHAR)"
            )
            missed = con.execute(f"SELECT count(*) FROM {quote(table)} WHERE {quote(column)} IS NULL").fetchone()[0]
            if missed:
                # a row whose value could not be derived is null only because the source lacks it
                report.absent.setdefault(table, set()).add(column)
                report.notes.append(Note(table, "not-derived", missed,
                    f"{table}.{column}: {missed:,} rows could not be derived ({here} matches no {rule.lookup}.{there}), "
                    f"so the indicators that read it are not computed"))


# --- what the absent columns stop ---------------------------------------------------------------------

def blocked_indicators(definitions, plan, report: LoadReport) -> dict[str, list[str]]:
    """The indicators whose numbers would depend on an absent column or table, with what they need
    (`table.column` or `the table t`).

    Read from DuckDB's own optimised plan of each query's measure (its columns pruned through every
    view), on empty tables of the canonical shape: a column counts only if the number reads it.
    """
    if not report.absent and not report.absent_tables:
        return {}
    from kpi import database

    con = database.connect()
    try:
        # Statistics on empty tables would fold filters away, and with them the columns they read.
        con.execute("SET disabled_optimizers = 'statistics_propagation,empty_result_pullup'")
        for table in definitions.tables.values():
            database.create_empty_table(con, table)
        database.install_calendar(con)
        database.install_shared(con, list(definitions.shared))
        blocked = {}
        for indicator_plan in plan.indicators:
            database.install_period(con, indicator_plan.period[:1])
            needs = set()
            for sql in (indicator_plan.numerator, indicator_plan.denominator):
                if sql is not None:
                    needs |= _needs(con, sql.text, report)
            if needs:
                blocked[indicator_plan.indicator.id] = sorted(needs)
        return blocked
    finally:
        con.close()


def needs_message(needs: list[str]) -> str:
    """The error of an indicator that is not computed because the extract lacks what it reads."""
    return f"not computed: it needs {', '.join(needs)}, which this extract does not have (`kpi coverage` lists what each indicator needs)"


def _needs(con: duckdb.DuckDBPyConnection, sql: str, report: LoadReport) -> set[str]:
    from kpi.database import columns_of, wrap

    try:
        aggregate = "sum(value)" if "value" in columns_of(con, sql) else "count(*)"
        plan = con.execute(f"EXPLAIN (FORMAT JSON) SELECT month, {aggregate} FROM ({wrap(sql)}) GROUP BY ALL").fetchall()
    except duckdb.Error:
        return set()  # a query that does not bind reports its own error when it runs
    needs: set[str] = set()
    for node in _nodes(json.loads(plan[0][1])):
        info = node.get("extra_info") or {}
        if "Table" not in info:
            continue
        table = str(info["Table"]).split(".")[-1]
        if table in report.absent_tables:
            needs.add(f"the table {table}")
        read = " ".join(_strings(info.get("Projections"))) + " " + " ".join(_strings(info.get("Filters")))
        for column in report.absent.get(table, ()):
            if re.search(rf"\b{re.escape(column)}\b", read):
                needs.add(f"{table}.{column}")
    return needs


def _nodes(nodes: list) -> Iterable[dict]:
    for node in nodes:
        yield node
        yield from _nodes(node.get("children") or [])


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def assumed_report(profile: Profile, tables: Mapping[str, Table]) -> LoadReport:
    """What would be absent from an extract shaped as the profile says (no data read): its no-source
    columns and tables."""
    report = LoadReport()
    for table, columns in profile.no_source.items():
        report.absent.setdefault(table, set()).update(columns)
    report.absent_tables.update(profile.no_source_tables)
    return report


# --- telling the user ---------------------------------------------------------------------------------

def warnings(report: LoadReport, profile: Profile) -> list[str]:
    """One sentence per mapped column with values no map knows: the table, column, values and rows."""
    by_column: dict[tuple[str, str], list[Unmapped]] = {}
    for item in report.unmapped:
        by_column.setdefault((item.table, item.column), []).append(item)
    messages = [note.message for note in report.notes]
    for (table, column), items in sorted(by_column.items()):
        shown = ", ".join(f"{i.value!r} ({i.rows:,} rows)" for i in items[:UNMAPPED_SHOWN])
        more = f" and {len(items) - UNMAPPED_SHOWN} more" if len(items) > UNMAPPED_SHOWN else ""
        rows = sum(i.rows for i in items)
        messages.append(
            f"{table}.{column}: {rows:,} rows hold values the source profile {profile.name} does not map: {shown}{more}; "
            f"the indicators read them as no code: add them under [profile.value_maps.{table}.{column}] in kpi.toml"
        )
    return messages


def findings(report: LoadReport, profile: Profile) -> list:
    """The report as `kpi check-data` findings: one per value no map knows, one per failed derivation."""
    from kpi.quality import Finding

    found = [Finding(u.table, "unmapped-value", f"`{u.column}` holds {u.value!r}, which the source profile {profile.name} does not map", u.rows, ())
             for u in report.unmapped]
    found += [Finding(note.table, note.check, note.message, note.rows, ()) for note in report.notes]
    return found


@dataclass(frozen=True)
class Coverage:
    """Whether one indicator is computable from an extract, and if not what it needs."""

    indicator_id: str
    title: str
    computable: bool
    reason: str


def coverage(definitions, plan, report: LoadReport) -> list[Coverage]:
    """Per indicator of the plan: computable, or not and why."""
    blocked = blocked_indicators(definitions, plan, report)
    rows = []
    for indicator_plan in plan.indicators:
        indicator = indicator_plan.indicator
        needs = blocked.get(indicator.id)
        reason = f"needs {', '.join(needs)}" if needs else "reads only what the extract has"
        rows.append(Coverage(indicator.id, indicator.title, not needs, reason))
    return rows
