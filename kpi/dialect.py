"""Indicator SQL written in SQL Server's T-SQL, translated to DuckDB's with sqlglot, keeping each line of
the translation on the line it came from, so that every later message points at the line of the YAML.

It does not check the SQL (validate.py does, on the translation) nor translate queries/ (DuckDB only).
"""

from __future__ import annotations

import re

# The marker left after the last token of each line: sqlglot keeps comments beside the expression they
# follow, so after translation each marker tells which line the text before it came from.
_MARKER = "/* kpi:line {} */"
_MARKER_FOUND = re.compile(r"\s*/\* kpi:line (\d+) \*/\s*")


class DialectError(Exception):
    """SQL that cannot be read in its dialect; `line` is the SQL's line (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def transpile(sql: str, dialect: str) -> str:
    """`sql` written in `dialect` as one DuckDB statement with as many lines, each holding what came from
    that line of `sql` (empty lines where a line's text moved, e.g. `TOP 10` to a closing `LIMIT 10`)."""
    import sqlglot  # only for projects that write T-SQL
    from sqlglot.errors import ParseError, TokenError

    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
        marked = _mark_lines(sql, tokens)
        translated = sqlglot.transpile(marked, read=dialect, write="duckdb", pretty=False)
    except ParseError as error:
        detail = error.errors[0] if error.errors else {}
        message = str(detail.get("description") or error).split("\n")[0]
        return _raise(message, detail.get("line"))
    except (TokenError, ValueError) as error:
        return _raise(str(error).split("\n")[0], None)
    if len(translated) != 1:
        return _raise(f"it holds {len(translated)} statements: write exactly one SELECT", None)
    return _place_lines(translated[0], sql.split("\n"))


def _raise(message: str, line: int | None) -> str:
    raise DialectError(message[:1].lower() + message[1:], line)


def _mark_lines(sql: str, tokens) -> str:
    """`sql` with a marker comment after the last token of each line."""
    last_end: dict[int, int] = {}
    for token in tokens:
        line = sql.count("\n", 0, token.end + 1) + 1
        last_end[line] = max(last_end.get(line, -1), token.end)
    pieces, previous = [], 0
    for line, end in sorted(last_end.items()):
        pieces.append(sql[previous:end + 1])
        pieces.append(" " + _MARKER.format(line))
        previous = end + 1
    pieces.append(sql[previous:])
    return "".join(pieces)


def _place_lines(translated: str, original: list[str]) -> str:
    """Put each piece of the one-line translation back on the line its marker names (never earlier
    than the piece before it), so that line n of the result came from line n of the original, indented
    as it was."""
    line_count = len(original)
    lines = [""] * line_count
    current = 1
    position = 0
    for match in _MARKER_FOUND.finditer(translated):
        current = min(max(current, int(match.group(1))), line_count)
        _append(lines, current, translated[position:match.start()])
        position = match.end()
    _append(lines, line_count, translated[position:])
    indents = [line[: len(line) - len(line.lstrip())] for line in original]
    return "\n".join(indent + line if line else "" for indent, line in zip(indents, lines))


def _append(lines: list[str], line: int, text: str) -> None:
    text = text.strip()
    if text:
        lines[line - 1] = f"{lines[line - 1]} {text}" if lines[line - 1] else text


# T-SQL habits DuckDB does not share: (pattern in the SQL, what to write instead). Recognised from the
# SQL's text when DuckDB cannot read or bind it, so that an analyst from SQL Server sees the DuckDB form.
TSQL_HABITS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"\bselect\s+(distinct\s+)?top\s*\(?\s*\d", re.I),
     "`TOP n` is T-SQL: DuckDB writes `LIMIT n` at the end of the query"),
    (re.compile(r"\[[A-Za-z_][^\]\n]*\]"),
     "`[name]` is T-SQL: DuckDB quotes a name as `\"name\"`"),
    (re.compile(r"\bgetdate\s*\(\s*\)|\bsysdatetime\s*\(\s*\)", re.I),
     "`GETDATE()` is T-SQL: DuckDB writes `current_date` (or `now()` for the time too); "
     "an indicator should use the `period` dates rather than today"),
    (re.compile(r"\bdatediff\s*\(\s*(day|dd|d|week|wk|month|mm|m|year|yy|yyyy|hour|hh)\s*,", re.I),
     "`DATEDIFF(day, a, b)` is T-SQL: DuckDB writes `date_diff('day', a, b)`"),
    (re.compile(r"\bdateadd\s*\(\s*(day|dd|d|week|wk|month|mm|m|year|yy|yyyy)\s*,", re.I),
     "`DATEADD(day, n, a)` is T-SQL: DuckDB writes `a + INTERVAL (n) DAY`"),
    (re.compile(r"\bisnull\s*\(", re.I),
     "`ISNULL(a, b)` is T-SQL: DuckDB writes `coalesce(a, b)`"),
    (re.compile(r"(=|<>|!=|\bin\s*\(|\blike)\s*\"[^\"\n]*\"", re.I),
     "a double-quoted \"text\" is a name in DuckDB: write text in single quotes, 'like this'"),
)


def tsql_hints(sql: str) -> list[str]:
    """What to write instead of each T-SQL habit found in `sql` (empty when there is none)."""
    return [hint for pattern, hint in TSQL_HABITS if pattern.search(sql)]


def tsql_hint_text(sql: str) -> str:
    """The hints for `sql` as the end of a message (". `TOP n` is T-SQL: ..."), or "" when there are none."""
    hints = tsql_hints(sql)
    if not hints:
        return ""
    return ". " + "; ".join(hints) + " (or, in an indicator, write `dialect: tsql` to have its T-SQL translated)"


DIALECT_NAMES = {"tsql": "T-SQL", "duckdb": "DuckDB SQL"}


def written_text(part: str, sql) -> str:
    """For `kpi explain`: the `part`'s SQL as written, when it was translated from another dialect; else ""."""
    if sql is None or sql.written is None:
        return ""
    body = "\n".join(f"-- {line}" if line.strip() else "--" for line in sql.written.rstrip().split("\n"))
    name = DIALECT_NAMES.get(sql.dialect, sql.dialect)
    return f"\n-- {part} as written in {name} ({sql.file}, line {sql.line}), run as the DuckDB SQL above:\n{body}\n"
