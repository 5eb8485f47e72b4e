"""Applying a profile: SQL over each staged (raw) table before its typed conversion (names, null markers,
placeholder dates, value maps, flags, derived columns, rows kept, absent columns as null), then the
lookups across tables once all are loaded. Any profile the same way: no CMS is named here.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

import duckdb

from kpi.extracts import Table, drop_staged, parse_expression, quote
from kpi.issues import Issue
from kpi.profiles.profile import Flag, Profile, normalise
from kpi.profiles.report import LoadReport, Note, Unmapped

TRUE_WORDS = ("Y", "YES", "T", "TRUE", "1")
FALSE_WORDS = ("N", "NO", "F", "FALSE", "0")


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
    rules = (profile.renames, profile.value_maps, profile.flags, profile.derived, profile.keep_rows, profile.no_source)
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
    # A column the profile says the source does not fill, present but empty in every row, is absent too
    # (the CMS's extract writes it as NULL): its nulls mean "not recorded", not "none".
    unfilled = [c for c in profile.no_source.get(table.name, ()) if c in names]
    if unfilled:
        counts = con.execute(f"SELECT {', '.join(f'count({_text(quote(c))})' for c in unfilled)} FROM {stage}").fetchone()
        report.absent.setdefault(table.name, set()).update(c for c, n in zip(unfilled, counts) if n == 0)
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
    drop_staged(con, raw)  # a table, or a view of a Parquet file
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
    parse of valid JSON, else a regular expression over the text (cut or unescaped JSON)."""
    if flag.list_items:
        # ",item one,item two," (lower case, single spaces): an item is listed when ",item," is inside
        listed = (f"(',' || regexp_replace(lower(regexp_replace(trim(CAST({value} AS VARCHAR)), '\\s+', ' ', 'g')), "
                  f"'\\s*,\\s*', ',', 'g') || ',')")
        found = " OR ".join(f"contains({listed}, {_literal(',' + normalise(i) + ',')})" for i in flag.list_items)
        return f"CASE WHEN {_text(value)} IS NULL THEN NULL WHEN {found} THEN 'Y' ELSE 'N' END"
    text = f"CAST({value} AS VARCHAR)"
    parsed = [f"CASE WHEN json_valid({text}) THEN json_extract_string({text}, {_literal('$.' + k)}) END" for k in flag.json_keys]
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
                    f"{table}.{column}: {missed:,} rows could not be derived ({here} is empty or matches no {rule.lookup}.{there}), "
                    f"so the indicators that read it are not computed"))
