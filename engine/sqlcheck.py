"""What an indicator's SQL may be, checked without running it: one read-only SELECT (SPEC §5).

Also finds the tables and views a query refers to, from DuckDB's own parse tree. Binding the SQL
against the extract tables happens in validate.py; the run-time lock is in database.py.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import duckdb

# Statements a file under queries/ may hold: shared macros and views, nothing else.
_QUERY_FILE_STATEMENT = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?((TEMP|TEMPORARY)\s+)?(VIEW|MACRO|FUNCTION)\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)


def select_problem(sql: str, part: str) -> str | None:
    """Why `sql` is not a single SELECT (a lower-case sentence), or None when it is one."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        return f"the {part} is not valid SQL: {_first_line(error)}"
    if not statements:
        return f"the {part} is empty: write one SELECT"
    if len(statements) > 1:
        return f"the {part} holds {len(statements)} statements: write exactly one SELECT (no `;` between statements)"
    kind = statements[0].type.name
    if kind != "SELECT":
        return f"the {part} is a {kind} statement: only a SELECT is allowed, which reads the extracts and changes nothing"
    return None


def query_file_statement(sql: str) -> tuple[str, str] | None:
    """(kind, name) of a `CREATE [OR REPLACE] VIEW|MACRO name` statement, or None for anything else."""
    match = _QUERY_FILE_STATEMENT.match(sql)
    if not match:
        return None
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return None
    if len(statements) != 1 or statements[0].type.name != "CREATE":
        return None
    kind = match.group(4).upper()
    return ("MACRO" if kind == "FUNCTION" else kind), match.group(5).lower()


_NAMES: dict[str, frozenset[str]] = {}


def referenced_names(sql: str) -> frozenset[str]:
    """The names a SELECT reads from (tables, views and CTEs), lower-cased; empty when it cannot be parsed."""
    if sql not in _NAMES:
        parse_all([sql])
    return _NAMES[sql]


def parse_all(sqls: list[str]) -> None:
    """Parse many SELECTs in one call to DuckDB's parser (one call per query costs more than the parsing)."""
    unparsed = sorted({s for s in sqls if s not in _NAMES})
    if not unparsed:
        return
    rows = _parser().execute("SELECT json_serialize_sql(q) FROM unnest(?::VARCHAR[]) t(q)", [unparsed]).fetchall()
    for sql, (text,) in zip(unparsed, rows):
        tree = json.loads(text)
        names: set[str] = set()
        _collect({} if tree.get("error") else tree, names)
        _NAMES[sql] = frozenset(names)


@lru_cache(maxsize=1)
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _collect(node: object, names: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and node.get("table_name"):
            names.add(str(node["table_name"]).lower())
        for value in node.values():
            _collect(value, names)
    elif isinstance(node, list):
        for value in node:
            _collect(value, names)


def view_body(sql: str) -> str:
    """The SELECT of a `CREATE VIEW name AS SELECT ...` statement."""
    match = re.search(r"\bAS\b", sql, re.IGNORECASE)
    return sql[match.end():] if match else sql


def _first_line(error: Exception) -> str:
    text = str(error).split("\n")[0]
    return text[:1].lower() + text[1:]
