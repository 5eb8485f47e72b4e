"""What an indicator's SQL may be, checked without running it: one read-only SELECT (SPEC §5).

Also finds the tables and views a query refers to, from DuckDB's own parse tree. Binding the SQL
against the extract tables happens in validate.py; the run-time lock is in database.py.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import duckdb

from kpi.dialect import tsql_hint_text

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
        return f"the {part} is not valid SQL: {first_line(error)}" + tsql_hint_text(sql)
    if not statements:
        return f"the {part} is empty: write one SELECT"
    if len(statements) > 1:
        return f"the {part} holds {len(statements)} statements: write exactly one SELECT (no `;` between statements)"
    kind = statements[0].type.name
    first_word = _first_word(sql)
    if kind == "SELECT" and first_word not in _SELECT_STARTS:
        kind = first_word.upper()  # some DuckDB releases parse `PRAGMA x` or `SHOW x` as a SELECT
    if kind != "SELECT":
        return f"the {part} is a {kind} statement: only a SELECT is allowed, which reads the extracts and changes nothing"
    return None


# How a SELECT may begin: DuckDB also accepts `FROM t SELECT ...`, `VALUES ...` and a parenthesised query.
_SELECT_STARTS = ("select", "with", "from", "values", "(", "table")


def _first_word(sql: str) -> str:
    """The statement's first keyword (or `(`), lower-cased, after comments and blank lines."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL).lstrip()
    if text.startswith("("):
        return "("
    match = re.match(r"[A-Za-z_]+", text)
    return match.group(0).lower() if match else ""


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
_CTES: dict[str, frozenset[str]] = {}

# Relations the engine provides to every query: a query may not define its own under these names,
# or the engine's would be hidden from it (a CTE named `period` computes the same rows for every month).
ENGINE_RELATIONS = ("period", "ref_calendar")


def referenced_names(sql: str) -> frozenset[str]:
    """The names a SELECT reads from (tables, views and CTEs), lower-cased; empty when it cannot be parsed."""
    if sql not in _NAMES:
        parse_all([sql])
    return _NAMES[sql]


def cte_names(sql: str) -> frozenset[str]:
    """The names of the common table expressions (`WITH name AS ...`) a SELECT defines, at any depth."""
    if sql not in _CTES:
        parse_all([sql])
    return _CTES[sql]


def shadowing_problem(sql: str, part: str) -> str | None:
    """Why `sql` hides a relation the engine provides (a lower-case sentence), or None when it does not."""
    hidden = sorted(cte_names(sql) & set(ENGINE_RELATIONS))
    if not hidden:
        return None
    name = hidden[0]
    return (f"the {part} defines its own `{name}` (WITH {name} AS ...), which hides the engine's `{name}`: "
            "every month would count the same rows")


def parse_all(sqls: list[str]) -> None:
    """Parse many SELECTs in one call to DuckDB's parser (one call per query costs more than the parsing)."""
    unparsed = sorted({s for s in sqls if s not in _NAMES})
    if not unparsed:
        return
    rows = _parser().execute("SELECT json_serialize_sql(q) FROM unnest(?::VARCHAR[]) t(q)", [unparsed]).fetchall()
    for sql, (text,) in zip(unparsed, rows):
        tree = json.loads(text)
        names: set[str] = set()
        ctes: set[str] = set()
        _collect({} if tree.get("error") else tree, names, ctes)
        _NAMES[sql] = frozenset(names)
        _CTES[sql] = frozenset(ctes)


@lru_cache(maxsize=1)
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _collect(node: object, names: set[str], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and node.get("table_name"):
            names.add(str(node["table_name"]).lower())
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(entry.get("key", "")).lower() for entry in cte_map.get("map") or [])
        for value in node.values():
            _collect(value, names, ctes)
    elif isinstance(node, list):
        for value in node:
            _collect(value, names, ctes)


def view_body(sql: str) -> str:
    """The SELECT of a `CREATE VIEW name AS SELECT ...` statement."""
    match = re.search(r"\bAS\b", sql, re.IGNORECASE)
    return sql[match.end():] if match else sql


def first_line(error: Exception) -> str:
    """The first line of DuckDB's message, lower-cased."""
    text = str(error).split("\n")[0]
    return text[:1].lower() + text[1:]


def describe_error(error: Exception, sql: str | None = None) -> str:
    """DuckDB's message in the user's terms: lower-case, with its "did you mean" (`locate` finds the line),
    and the DuckDB form of any T-SQL habit (`TOP 10`, `GETDATE()`...) in `sql` or the line DuckDB quotes."""
    text = str(error)
    lines = [part.strip() for part in text.split("\n") if part.strip() and not part.strip().startswith("LINE ") and set(part.strip()) != {"^"}]
    first = lines[0] if lines else text
    first = re.sub(r"^[A-Za-z ]+ Error: ", "", first)
    if "file system operations are disabled" in first or "Permission Error" in text:
        first = "reads or writes a file, which indicator SQL may not do: select only from the extract tables, views and `period`"
    message = first[:1].lower() + first[1:]
    extra = [l for l in lines[1:] if l.lower().startswith(("did you mean", "candidate"))]
    if extra:
        message += " (" + "; ".join(e[:1].lower() + e[1:] for e in extra) + ")"
    quoted = "\n".join(re.findall(r"^LINE \d+: ?(.*)$", text, re.M))
    return message + tsql_hint_text(sql if sql is not None else quoted)


def locate(sql: str, error: Exception) -> int | None:
    """The SQL line an error is about: DuckDB's `LINE n`, else the first line naming what it quotes."""
    text = str(error)
    match = re.search(r"LINE (\d+):", text)
    if match:
        return int(match.group(1))
    # The longest quoted name is the telling one: 'Table "a" does not have a column named "x_date"'.
    for name in sorted(re.findall(r'"([^"]+)"', text.split("\n")[0]), key=len, reverse=True):
        for number, line in enumerate(sql.split("\n"), start=1):
            if re.search(rf"\b{re.escape(name)}\b", line):
                return number
    return None
