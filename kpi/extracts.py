"""The extract tables (SPEC §6): their definitions, read from schemas/extracts.yaml, and loading the
council's files (CSV, Parquet, Excel, a DuckDB database) into typed DuckDB tables.

Every value that cannot be read as its column's type is reported with file, row, column and value, all
in one run. Nothing here knows about indicators beyond the names of the tables they need.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import duckdb

from kpi import yamldoc
from kpi.issues import Issue, KpiError, display_path

SQL_TYPES = {
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "double": "DOUBLE",
}
_EXPECTED = {
    "date": "a date from 1900 on (2017-09-30 or 30/09/2017)",
    "timestamp": "a date and time from 1900 on (2017-09-30 14:05 or 30/09/2017 14:05)",
    "boolean": "true/false, Y/N or 1/0",
    "integer": "a whole number",
    "double": "a number",
}
FILE_SUFFIXES = (".csv", ".parquet", ".xlsx")
DATABASE_SUFFIXES = (".duckdb", ".db")
EXAMPLES_PER_PROBLEM = 5


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    extension: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One extract table: its columns in order and its key (one or more columns)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    reference: bool = False
    references: tuple[tuple[str, str, str], ...] = ()  # (column, table, column) it points at
    periods: tuple[tuple[str, str], ...] = ()  # (start column, end column)
    extension: bool = False  # a kpi extension of the SSD: optional in a council's files

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@lru_cache(maxsize=4)
def table_definitions(schemas_dir: Path) -> Mapping[str, Table]:
    """The extract tables defined in schemas/extracts.yaml, by name.

    The file is checked against schemas/extracts.schema.json and for names that must agree (a key,
    a reference or a period naming a column the table has); any problem is a KpiError naming its line.
    """
    path = schemas_dir / "extracts.yaml"
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KpiError(f"cannot read {shown}: {error}") from None
    document, issues = yamldoc.parse(text, shown)
    if document is not None:
        schema = json.loads((bundled_schemas() / "extracts.schema.json").read_text(encoding="utf-8"))
        issues.extend(yamldoc.schema_issues(document, schema, shown, "schemas/extracts.schema.json"))
    if not issues:
        issues.extend(_naming_issues(document, shown))
    if issues:
        raise KpiError(f"{shown} does not define the extract tables properly", issues)
    tables = {}
    for name, spec in document.data["tables"].items():
        columns = []
        for column, kind in spec["columns"].items():
            if isinstance(kind, dict):
                columns.append(Column(column, kind["type"], bool(kind.get("extension"))))
            else:
                columns.append(Column(column, kind))
        key = spec["key"]
        references = tuple((column, *target.split(".")) for column, target in (spec.get("references") or {}).items())
        tables[name] = Table(
            name, tuple(key) if isinstance(key, list) else (key,), tuple(columns), bool(spec.get("reference")),
            references, tuple(tuple(pair) for pair in spec.get("periods") or ()), bool(spec.get("extension")),
        )
    return tables


def bundled_schemas() -> Path:
    """The schemas shipped with the engine (a project's own extracts.yaml is checked against these)."""
    from kpi.config import bundled_root

    return bundled_root() / "schemas"


def _naming_issues(document: yamldoc.Document, shown: str) -> list[Issue]:
    """Keys, references and periods that name a column or table extracts.yaml does not define."""
    tables = document.data["tables"]
    issues = []

    def issue(path: tuple, message: str, hint: str) -> None:
        line, column = yamldoc.nearest(document.positions, ("__value__",) + path)
        issues.append(Issue("extracts-name", message, shown, line, column, hint=hint))

    for name, spec in tables.items():
        columns = spec["columns"]
        keys = spec["key"] if isinstance(spec["key"], list) else [spec["key"]]
        for key in keys:
            if key not in columns:
                issue(("tables", name, "key"), f"table {name}: its key `{key}` is not one of its columns", "add the column or correct the key")
        for column, target in (spec.get("references") or {}).items():
            if column not in columns:
                issue(("tables", name, "references", column), f"table {name}: the reference from `{column}` names a column it does not have", "correct the column name")
            other, other_column = target.split(".")
            if other not in tables or other_column not in tables[other]["columns"]:
                issue(("tables", name, "references", column), f"table {name}: `{column}` refers to {target}, which is not defined", "name a table and column defined in this file")
        for index, pair in enumerate(spec.get("periods") or []):
            for column in pair:
                kind = columns.get(column)
                kind = kind.get("type") if isinstance(kind, dict) else kind
                if kind not in ("date", "timestamp"):
                    issue(("tables", name, "periods", index), f"table {name}: the period column `{column}` is not a date or timestamp column of the table", "name two date columns: the start and the end")
    return issues


def quote(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def blank(text_sql: str) -> str:
    """SQL true when the text is missing or only spaces: `NULLIF(trim(x), '') IS NULL`, written so
    that no trimmed copy of each value is made (it is the test every row of every table meets)."""
    return f"({text_sql} IS NULL OR trim({text_sql}) = '')"


def create_empty_table(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """An empty table shaped like the extract, for binding SQL and for fixture tests."""
    columns = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {quote(table.name)} ({columns})")


# A date must carry its year in full: `11/06/12` would otherwise be read as the year 11 (or 12). No case
# record is dated before 1900 (nor after 2999), so such a year is a damaged date, in text or typed.
_ISO_DATE = r"^(19|2[0-9])[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}([ T]|$)"
_UK_DATE = r"^[0-9]{1,2}/[0-9]{1,2}/(19|2[0-9])[0-9]{2}( |$)"
_PLAUSIBLE_YEAR = "BETWEEN 1900 AND 2999"
_UK_SHORT_YEAR = r"^[0-9]{1,2}/[0-9]{1,2}/([0-9]{2})( |$)"
TWO_DIGIT_YEAR_HINT = "write years with four digits (2012), or set `two_digit_year_pivot` in kpi.toml"


def parse_expression(column: str, kind: str, two_digit_year_pivot: int | None = None) -> str:
    """SQL turning the column `column`, read as text, into `kind`; NULL when empty or unreadable.

    Dates accept ISO and UK forms with a four-digit year (a time, if any, is dropped); timestamps ISO
    or UK with or without seconds (a time-zone suffix is dropped: the time is taken as written);
    booleans true/false, t/f, Y/N, yes/no, 1/0. A UK date with a two-digit year (`11/06/12`) is
    unreadable unless `two_digit_year_pivot` is given: then years below it are 20yy, others 19yy.
    """
    return _parse(f"CAST({quote(column)} AS VARCHAR)", kind, two_digit_year_pivot)


def _full_year(v: str, pivot: int | None) -> str:
    """`v` with a UK date's two-digit year written in full by the pivot; `v` itself without a pivot."""
    if pivot is None:
        return v
    year = f"TRY_CAST(regexp_extract({v}, '{_UK_SHORT_YEAR}', 1) AS INTEGER)"
    prefix = r"'^([0-9]{1,2}/[0-9]{1,2}/)'"
    return (
        f"CASE WHEN {year} IS NULL THEN {v} WHEN {year} < {int(pivot)} THEN regexp_replace({v}, {prefix}, '\\120') "
        f"ELSE regexp_replace({v}, {prefix}, '\\119') END"
    )


def _parse(text_sql: str, kind: str, pivot: int | None = None) -> str:
    v = f"NULLIF(trim({text_sql}), '')"
    if kind == "text":
        return v
    if kind in ("date", "timestamp"):
        v = _full_year(v, pivot)
        iso, uk = f"regexp_matches({v}, '{_ISO_DATE}')", f"regexp_matches({v}, '{_UK_DATE}')"
        if kind == "date":
            return (
                f"CASE WHEN {iso} THEN COALESCE(TRY_CAST({v} AS DATE), CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE)) "
                f"WHEN {uk} THEN CAST(try_strptime({v}, ['%d/%m/%Y', '%d/%m/%Y %H:%M', '%d/%m/%Y %H:%M:%S']) AS DATE) END"
            )
        return (
            f"CASE WHEN {iso} THEN TRY_CAST({v} AS TIMESTAMP) "
            f"WHEN {uk} THEN try_strptime({v}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y']) END"
        )
    if kind == "boolean":
        return (
            f"CASE WHEN lower({v}) IN ('true', 't', 'y', 'yes', '1') THEN TRUE "
            f"WHEN lower({v}) IN ('false', 'f', 'n', 'no', '0') THEN FALSE END"
        )
    if kind == "integer":
        # `7.0` is a whole number too (spreadsheets and pandas write integers so)
        number = f"TRY_CAST({v} AS DOUBLE)"
        return f"CASE WHEN {number} = floor({number}) THEN CAST({number} AS BIGINT) END"
    if kind == "double":
        return f"TRY_CAST({v} AS DOUBLE)"
    raise ValueError(f"unknown column type {kind!r}")


# Stored types that already are the column's type (typed Parquet, DuckDB files): taken as they are.
_SAME_TYPE = {
    "date": ("DATE",),
    "timestamp": ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"),
    "boolean": ("BOOLEAN",),
    "integer": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"),
    "double": ("DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL"),
}


_WHOLE_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def _typed(column: str, kind: str, stored: str) -> str | None:
    """The column cast to its type when it is stored so already (no parsing, nothing to go wrong).

    Text is trimmed whatever the format (an export may pad it), and an id stored as a number is written
    as the number it is: `123`, never `123.0`, so that it joins with the same id stored as text.
    """
    base = stored.split("(")[0]
    name = quote(column)
    if kind == "text":
        if base == "VARCHAR":
            return f"NULLIF(trim({name}), '')"
        if base in _WHOLE_NUMBER_TYPES:
            return f"CAST({name} AS VARCHAR)"
        if base in ("DOUBLE", "FLOAT", "DECIMAL"):
            whole = f"{name} = floor({name}) AND abs({name}) < 1e15"
            return f"CASE WHEN {whole} THEN CAST(CAST({name} AS BIGINT) AS VARCHAR) ELSE CAST(CAST({name} AS DOUBLE) AS VARCHAR) END"
        return None
    if base in _SAME_TYPE[kind] and kind in ("date", "timestamp"):
        return f"CASE WHEN year({name}) {_PLAUSIBLE_YEAR} THEN CAST({name} AS {SQL_TYPES[kind]}) END"
    if base in _SAME_TYPE[kind]:
        return f"CAST({name} AS {SQL_TYPES[kind]})"
    return None


@dataclass(frozen=True)
class Source:
    """Where one table's rows come from: a file, a table in a DuckDB database file, or a table of a
    council's database (kind `database`: read by database_source.py into the DuckDB table `relation`
    first, its rows numbered in the order of its key; `shown_as` names it, the password masked)."""

    table: str
    path: Path
    kind: str  # csv | parquet | xlsx | duckdb | database
    shown_as: str | None = None
    relation: str | None = None

    @property
    def shown(self) -> str:
        if self.shown_as is not None:
            return self.shown_as
        base = display_path(self.path)
        return f"{base} (table {self.table})" if self.kind == "duckdb" else base

    def row_label(self, row: int) -> str:
        """How the user finds a data row: CSV and Excel count the header as line/row 1."""
        if self.kind == "csv":
            return f"row {row} (line {row + 1})"
        if self.kind == "xlsx":
            return f"row {row + 1}"
        return f"row {row}"


def find_sources(data_dir: Path, tables: Iterable[str]) -> tuple[dict[str, Source], list[Issue]]:
    """The file behind each table in `data_dir` (`<table>.csv|.parquet|.xlsx`, or a DuckDB file)."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise KpiError(f"the data folder {display_path(data_dir)} does not exist: give --data the folder holding the extracts")
    issues: list[Issue] = []
    sources: dict[str, Source] = {}
    databases = [data_dir] if data_dir.is_file() else sorted(p for p in data_dir.iterdir() if p.suffix in DATABASE_SUFFIXES)
    database_tables = _database_tables(databases)
    for table in tables:
        found = [Source(table, data_dir / f"{table}{s}", s[1:]) for s in FILE_SUFFIXES] if data_dir.is_dir() else []
        found = [s for s in found if s.path.exists()]
        found += [Source(table, db, "duckdb") for db, names in database_tables.items() if table in names]
        if len(found) > 1:
            issues.append(Issue("ambiguous-table", f"table {table} is given more than once: {', '.join(s.shown for s in found)}", display_path(data_dir), hint="keep one of them"))
        elif found:
            sources[table] = found[0]
    return sources, issues


def _database_tables(databases: list[Path]) -> dict[Path, set[str]]:
    result = {}
    for path in databases:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                result[path] = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        except duckdb.Error as error:
            raise KpiError(f"{display_path(path)} cannot be opened as a DuckDB database: {str(error).splitlines()[0]}") from None
    return result


def load_table(
    con: duckdb.DuckDBPyConnection, table: Table, source: Source, check_keys: bool = True,
    adapt: Callable[[duckdb.DuckDBPyConnection, str, Table], list[Issue]] | None = None,
    two_digit_year_pivot: int | None = None, encoding: str | None = None,
) -> list[Issue]:
    """Load one source into the typed table `table.name`; return the problems (nothing is loaded if any).

    `check_keys=False` loads duplicate and empty keys too, for `kpi check-data` to count them.
    `adapt`, when given, rewrites the staged rows first (a source profile: kpi/profiles/apply.py).
    `two_digit_year_pivot` reads `11/06/12` (see parse_expression); `encoding` is a CSV's text encoding
    when it is known (otherwise it is found: see csv_encoding).
    """
    raw = f"_raw_{table.name}"
    try:
        with _utf8_csv(source, encoding) as readable:
            _stage_raw(con, raw, source, readable)
    except _Undecodable as problem:
        return [problem.issue]
    except (duckdb.Error, OSError, ValueError) as error:
        line = re.search(r"CSV Error on Line: (\d+)", str(error)) if source.kind == "csv" else None
        return [Issue(
            "unreadable-file", f"cannot read {source.shown}: {_reading_error(error)}", source.shown,
            int(line[1]) if line else None, hint="check the file is a valid " + source.kind.upper(),
        )]
    try:
        problems = adapt(con, raw, table) if adapt else []
        if problems:
            return problems
        return _convert(con, raw, table, source, check_keys, two_digit_year_pivot)
    except duckdb.Error as error:
        if source.kind != "parquet":
            raise
        # a Parquet file is read where it is (see _stage_raw): a damaged page is found by the checks
        return [Issue("unreadable-file", f"cannot read {source.shown}: {_reading_error(error)}", source.shown,
                      hint="check the file is a valid PARQUET")]
    finally:
        drop_staged(con, raw)


def drop_staged(con: duckdb.DuckDBPyConnection, raw: str) -> None:
    """Drop a source's staged rows, a table or (a Parquet file read where it is) a view, if there."""
    kinds = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $1 AND temporary "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $1 AND temporary", [raw]).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} IF EXISTS {quote(raw)}")


def _reading_error(error: Exception) -> str:
    """DuckDB's first line, with the line that says what is wrong when it is a CSV error (the line count)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = lines[0] if lines else str(error)
    detail = next((line for line in lines[1:] if line.startswith(("Expected Number of Columns", "Invalid unicode", "Value with unterminated quote"))), None)
    return f"{first}: {detail}" if detail else first


# --- Text encodings: DuckDB reads UTF-8 only; other encodings are turned into UTF-8 first ----------

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
FALLBACK_ENCODING = "cp1252"  # what Excel on Windows writes when a CSV is not saved as UTF-8
_CHUNK = 1 << 20
_ENCODING_NAMES = {"cp1252": "Windows-1252 (cp1252)", "utf-8": "UTF-8"}


class _Undecodable(Exception):
    def __init__(self, issue: Issue):
        super().__init__(issue.message)
        self.issue = issue


def csv_encoding(source: Source) -> str:
    """A CSV's encoding: by its byte-order mark (UTF-8, UTF-16 LE/BE), else UTF-8 when it is valid
    UTF-8 throughout, else Windows-1252. A file that is UTF-8 (it has UTF-8's accented letters) but
    for a byte that is not is refused, naming the line: read as Windows-1252 its text would be garbled."""
    with open(source.path, "rb") as handle:
        start = handle.read(4)
        for mark, name in _BOMS:
            if start.startswith(mark):
                return name
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines, accented = 0, False
        while True:
            chunk = handle.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                before = chunk[: error.start].decode("utf-8", errors="replace")
                if accented or not before.isascii():
                    raise _Undecodable(_undecodable_issue(source, "utf-8", lines + before.count("\n") + 1, chunk[error.start:error.start + 1])) from None
                return FALLBACK_ENCODING
            lines += text.count("\n")
            accented = accented or not text.isascii()
            if not chunk:
                return "utf-8"


def _undecodable_issue(source: Source, encoding: str, line: int, byte: bytes) -> Issue:
    return Issue(
        "unreadable-encoding",
        f"{source.shown}, line {line}: the text cannot be read as {_ENCODING_NAMES.get(encoding, encoding)} (byte {byte.hex()})",
        source.shown, line,
        hint="save the file as CSV UTF-8, or give its encoding in kpi.toml: [encoding] " + source.table + ' = "..."',
    )


@contextmanager
def _utf8_csv(source: Source, encoding: str | None):
    """The path of the source as UTF-8: itself when it is so already, else a UTF-8 copy (line for line).
    Raises _Undecodable (an Issue naming the line) when the file cannot be decoded."""
    if source.kind != "csv":
        yield source.path
        return
    encoding = encoding or csv_encoding(source)
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        yield source.path  # DuckDB reads UTF-8 and skips its byte-order mark
        return
    with tempfile.TemporaryDirectory(prefix="kpi-") as folder:
        copy = Path(folder) / source.path.name
        _transcode(source, encoding, copy)
        yield copy


def _transcode(source: Source, encoding: str, target: Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with open(source.path, "rb") as given, open(target, "w", encoding="utf-8", newline="") as written:
        while True:
            chunk = given.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk[: error.start].decode(encoding, errors="replace").count("\n") + 1
                raise _Undecodable(_undecodable_issue(source, encoding, line, chunk[error.start:error.start + 1])) from None
            lines += text.count("\n")
            written.write(text.removeprefix("\ufeff") if written.tell() == 0 else text)
            if not chunk:
                break


def _stage_raw(con: duckdb.DuckDBPyConnection, raw: str, source: Source, readable: Path) -> None:
    """The source's rows as text, numbered from 1 in file order (`_kpi_row`); rows with every cell
    empty (what a spreadsheet leaves below its data) are no rows."""
    path = str(readable).replace("'", "''")
    if source.kind == "csv":
        relation = _csv_relation(readable, path)
    elif source.kind == "parquet":
        relation = f"read_parquet('{path}')"
    elif source.kind == "xlsx":
        import polars as pl  # only when an Excel file is given: it is slow to import

        frame = pl.read_excel(source.path, infer_schema_length=0)
        frame = frame.select(pl.all().cast(pl.String))
        con.register("_kpi_excel", frame.to_arrow())
        relation = "_kpi_excel"
    elif source.kind == "database":
        relation = quote(source.relation)
    else:
        alias = "_kpi_source"
        attached = {row[0] for row in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if alias not in attached:
            con.execute(f"ATTACH '{path}' AS {alias} (READ_ONLY)")
        relation = f"{alias}.{quote(source.table)}"
    columns = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    empty = " AND ".join(
        blank(quote(name)) if kind == "VARCHAR" else f"{quote(name)} IS NULL" for name, kind, *_ in columns
    ) or "FALSE"
    if source.kind == "parquet" and all(name.lower() != "file_row_number" for name, *_ in columns):
        # Typed columns read where they are, not copied: a view, numbered as the file is (every check
        # and the typed table each read only the columns they need, in parallel).
        numbered = f"SELECT file_row_number + 1 AS _kpi_row, * EXCLUDE (file_row_number) FROM read_parquet('{path}', file_row_number = true)"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote(raw)} AS SELECT * FROM ({numbered}) WHERE NOT ({empty})")
        return
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote(raw)} AS "
        f"SELECT * FROM (SELECT row_number() OVER () AS _kpi_row, * FROM {relation}) WHERE NOT ({empty})"
    )
    if source.kind == "xlsx":
        con.unregister("_kpi_excel")


_DELIMITERS = (",", ";", "\t", "|")


def _csv_relation(readable: Path, path_sql: str) -> str:
    """read_csv of the file with the header and delimiter its first line gives: DuckDB's dialect
    sniffer is not used, since one damaged row can mislead it (a row cut short must be named)."""
    with open(readable, encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise ValueError("the file is empty or its first line is blank: the first line must name the columns")
    delimiter = max(_DELIMITERS, key=first.count)
    names = next(csv.reader([first], delimiter=delimiter))
    columns = ", ".join(f"'{(name.strip() or f'column{n}').replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n, name in enumerate(names, start=1))
    quoted_delimiter = delimiter.replace("'", "''")
    return (
        f"read_csv('{path_sql}', auto_detect = false, header = true, delim = '{quoted_delimiter}', quote = '\"', "
        f"escape = '\"', columns = {{{columns}}})"
    )


def _convert(
    con: duckdb.DuckDBPyConnection, raw: str, table: Table, source: Source, check_keys: bool = True,
    two_digit_year_pivot: int | None = None,
) -> list[Issue]:
    stored = {row[0]: row[1] for row in con.execute(f"DESCRIBE {quote(raw)}").fetchall() if row[0] != "_kpi_row"}
    issues = []
    for column in table.columns:
        if column.name not in stored:
            close = difflib.get_close_matches(column.name, list(stored), n=1)
            hint = f"is `{close[0]}` meant to be `{column.name}`?" if close else f"add the column `{column.name}` ({column.type})"
            issues.append(Issue("missing-column", f"{source.shown} has no column `{column.name}`", source.shown, 1, hint=hint))
    if issues:
        return issues

    typed = {c.name: _typed(c.name, c.type, stored[c.name]) for c in table.columns}
    expressions = {c.name: typed[c.name] or parse_expression(c.name, c.type, two_digit_year_pivot) for c in table.columns}
    # typed dates are checked too: a typed date can still be the year 12 (a two-digit year, saved)
    to_check = [c for c in table.columns if c.type != "text" and (not typed[c.name] or c.type in ("date", "timestamp"))]
    found, key_counts = _checked(con, raw, to_check, expressions, stored, table if check_keys else None)
    issues.extend(_unreadable(found, to_check, source))
    if check_keys:
        issues.extend(_key_issues(con, raw, table, source, *key_counts))
    if issues:
        return issues

    selected = [f"{expressions[c.name]} AS {quote(c.name)}" for c in table.columns]
    # Columns beyond the definition are kept as text: a council may break results down by them.
    selected += [f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" for c in stored if table.column(c) is None]
    # The staged rows are in file order, which DuckDB keeps (preserve_insertion_order): no sort needed.
    con.execute(f"CREATE OR REPLACE TABLE {quote(table.name)} AS SELECT {', '.join(selected)} FROM {quote(raw)}")
    return []


def _key_sql(table: Table) -> tuple[str, str]:
    """A key's text (its columns joined by `/`) and the condition of a row whose key is empty."""
    key_text = " || '/' || ".join(f"coalesce(CAST({quote(k)} AS VARCHAR), '')" for k in table.key)
    empty_condition = " OR ".join(blank(f"CAST({quote(k)} AS VARCHAR)") for k in table.key)
    return key_text, empty_condition


def _checked(
    con: duckdb.DuckDBPyConnection, raw: str, columns: list[Column], expressions: dict[str, str],
    stored: Mapping[str, str], keyed: Table | None,
) -> tuple[tuple, tuple]:
    """Every check of the staged rows in one scan that only counts; the values and rows of what it
    finds in a second, only when there is something to show. Returns, per column in `columns`, (the
    count of unreadable values, the first of them, their rows); for the key of `keyed`, when given,
    (the count of empty keys, their first rows, whether some key is used by more than one row)."""
    bad = {}
    for column in columns:
        if stored[column.name].split("(")[0] == "VARCHAR" or _typed(column.name, column.type, stored[column.name]) is None:
            text = f"CAST({quote(column.name)} AS VARCHAR)"
            bad[column.name] = f"{expressions[column.name]} IS NULL AND NOT {blank(text)}"
        else:  # stored as its type: a value is there, and the check (a plausible year) turned it to NULL
            bad[column.name] = f"{quote(column.name)} IS NOT NULL AND {expressions[column.name]} IS NULL"
    counts = [f"count(*) FILTER (WHERE {bad[c.name]})" for c in columns]
    if keyed is not None:
        key_text, empty_condition = _key_sql(keyed)
        given = f"FILTER (WHERE NOT ({empty_condition}))"
        counts.append(f"count(*) FILTER (WHERE {empty_condition})")
        counts.append(f"count(*) {given} > count(DISTINCT {key_text}) {given}")
    if not counts:
        return (), ()
    found = con.execute(f"SELECT {', '.join(counts)} FROM {quote(raw)}").fetchone()
    shown = [c for n, c in enumerate(columns) if found[n]]
    examples = []
    for column in shown:
        examples.append(f"arg_min(CAST({quote(column.name)} AS VARCHAR), _kpi_row, {EXAMPLES_PER_PROBLEM}) FILTER (WHERE {bad[column.name]})")
        examples.append(f"arg_min(_kpi_row, _kpi_row, {EXAMPLES_PER_PROBLEM}) FILTER (WHERE {bad[column.name]})")
    empty_keys = keyed is not None and found[len(columns)] > 0
    if empty_keys:
        examples.append(f"arg_min(_kpi_row, _kpi_row, {EXAMPLES_PER_PROBLEM}) FILTER (WHERE {empty_condition})")
    values = con.execute(f"SELECT {', '.join(examples)} FROM {quote(raw)}").fetchone() if examples else ()
    listed = dict(zip([c.name for c in shown], zip(values[0::2], values[1::2])))
    per_column = tuple(x for c, count in zip(columns, found) for x in (count, *listed.get(c.name, (None, None))))
    if keyed is None:
        return per_column, ()
    return per_column, (found[len(columns)], values[-1] if empty_keys else None, found[len(columns) + 1])


def _unreadable(found: tuple, columns: list[Column], source: Source) -> list[Issue]:
    """Values that are present but cannot be read as their column's type (from _checked's scan)."""
    issues = []
    for n, column in enumerate(columns):
        count, values, rows = found[3 * n: 3 * n + 3]
        for row, value in zip(rows or [], values or []):
            issues.append(Issue(
                "unreadable-value",
                f"{source.shown}, {source.row_label(row)}, column `{column.name}`: {value!r} is not {_EXPECTED[column.type]}",
                source.shown, row + 1 if source.kind == "csv" else row,
                hint=TWO_DIGIT_YEAR_HINT if column.type in ("date", "timestamp") and re.match(_UK_SHORT_YEAR, str(value).strip()) else None,
            ))
        if count > EXAMPLES_PER_PROBLEM:
            issues.append(Issue("unreadable-value", f"{source.shown}, column `{column.name}`: {count - EXAMPLES_PER_PROBLEM} more values are not {_EXPECTED[column.type]}", source.shown))
    return issues


def _key_issues(
    con: duckdb.DuckDBPyConnection, raw: str, table: Table, source: Source, empty_count: int, empty: list | None,
    repeated: bool,
) -> list[Issue]:
    """Empty keys (from _checked's scan) and, when _checked found a key used twice, which keys and rows."""
    issues = []
    key_text, empty_condition = _key_sql(table)
    key_name = ", ".join(f"`{k}`" for k in table.key)
    for row in (empty or [])[:EXAMPLES_PER_PROBLEM]:
        issues.append(Issue("empty-key", f"{source.shown}, {source.row_label(row)}: the key {key_name} is empty", source.shown, row + 1 if source.kind == "csv" else row, hint="every row needs its own key"))
    if not repeated:
        return issues
    duplicates = con.execute(
        f"SELECT {key_text} AS k, list(_kpi_row ORDER BY _kpi_row) FROM {quote(raw)} WHERE NOT ({empty_condition}) "
        f"GROUP BY k HAVING count(*) > 1 ORDER BY min(_kpi_row) LIMIT {EXAMPLES_PER_PROBLEM}"
    ).fetchall()
    for key, rows in duplicates:
        where = ", ".join(source.row_label(r) for r in rows[:5])
        issues.append(Issue("duplicate-key", f"{source.shown}: the key {key_name} {key!r} is used by more than one row ({where})", source.shown, rows[1] + 1 if source.kind == "csv" else rows[1], hint="each row must have its own key"))
    return issues


def load_rows(con: duckdb.DuckDBPyConnection, table: Table, rows: Iterable[Mapping[str, Any]], origin: str) -> list[Issue]:
    """Insert rows given as mappings (a fixture test's `given`), typed like the extract; columns not given are null."""
    rows = list(rows)
    create_empty_table(con, table)
    issues = []
    for index, row in enumerate(rows, start=1):
        for name in row:
            if table.column(name) is None:
                close = difflib.get_close_matches(name, [c.name for c in table.columns], n=1)
                issues.append(Issue("unknown-column", f"{origin}: {table.name} row {index} has no column `{name}`", hint=f"did you mean `{close[0]}`?" if close else None))
    if issues or not rows:
        return issues
    names = [c.name for c in table.columns]
    # the rows as one statement of literals: a prepared insert per row is far slower in DuckDB
    literal = lambda value: "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"  # noqa: E731
    values = ", ".join(f"({index}, {', '.join(literal(row.get(n)) for n in names)})" for index, row in enumerate(rows, start=1))
    aliases = ", ".join(f"_c{n}" for n in range(len(names)))
    # each value as given (_c0, ...) and parsed (_p0, ...), parsed once for the check and the insert
    text = ", ".join(f"CAST(_c{n} AS VARCHAR) AS _c{n}" for n in range(len(names)))
    present = {name for row in rows for name, value in row.items() if value is not None}
    parsed = ", ".join(f"{_parse(f'_c{n}', c.type) if c.name in present else f'CAST(NULL AS {c.sql_type})'} AS _p{n}"
                       for n, c in enumerate(table.columns))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _given AS SELECT *, {parsed} FROM "
        f"(SELECT CAST(_kpi_row AS BIGINT) AS _kpi_row, {text} FROM (VALUES {values}) v(_kpi_row, {aliases}))"
    )
    checks = [
        f"SELECT {n} AS c, _kpi_row, _c{n} AS v FROM _given WHERE _p{n} IS NULL AND NULLIF(trim(_c{n}), '') IS NOT NULL"
        for n, column in enumerate(table.columns) if column.type != "text" and column.name in present
    ]
    bad = con.execute(" UNION ALL ".join(checks) + " ORDER BY c, _kpi_row").fetchall() if checks else []
    issues.extend(
        Issue("unreadable-value", f"{origin}: {table.name} row {row}, column `{table.columns[n].name}`: {value!r} is not {_EXPECTED[table.columns[n].type]}")
        for n, row, value in bad
    )
    if not issues:
        selected = ", ".join(f"_p{n} AS {quote(c.name)}" for n, c in enumerate(table.columns))
        con.execute(f"INSERT INTO {quote(table.name)} SELECT {selected} FROM _given ORDER BY _kpi_row")
    con.execute("DROP TABLE _given")
    return issues



@dataclass(frozen=True)
class ReferenceShare:
    """How many of a reference column's values are found in the column it points at."""

    table: str
    column: str
    target: str  # table.column
    values: int
    matched: int
    unmatched_examples: tuple[str, ...]

    @property
    def share(self) -> float:
        return self.matched / self.values if self.values else 1.0


@dataclass(frozen=True)
class TableSurvey:
    """What one loaded table covers: its earliest and latest date (any date column), its references."""

    table: str
    earliest: date | None
    latest: date | None
    references: tuple[ReferenceShare, ...]


def survey_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], surveyed: Iterable[str]) -> dict[str, TableSurvey]:
    """The dates each surveyed table covers and how well its references join: the dates of every table
    in one query, and the references in one query per column referred to (its values are gathered from
    every table that refers to it and joined with it once).

    A reference is checked when its target table holds rows (one not given, or not readable, is not).
    The tables must have been loaded with their keys checked (load_table's default)."""
    present = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    names = sorted(set(surveyed) & present)
    targets = sorted({t for name in names for _, t, _ in tables[name].references if t in present})
    held = con.execute("SELECT " + ", ".join(f"EXISTS (SELECT 1 FROM {quote(t)})" for t in targets)).fetchone() if targets else ()
    holding = {t for t, holds in zip(targets, held) if holds}
    dates = []
    for n, name in enumerate(names):
        dated = [quote(c.name) for c in tables[name].columns if c.type in ("date", "timestamp")]
        # CAST: a table's earliest and latest dates, whether its columns are dates or timestamps
        bounds = (f"CAST(least({', '.join(f'min({c})' for c in dated)}) AS TIMESTAMP), "
                  f"CAST(greatest({', '.join(f'max({c})' for c in dated)}) AS TIMESTAMP)") if dated else "CAST(min(NULL) AS TIMESTAMP), CAST(max(NULL) AS TIMESTAMP)"
        dates.append(f"SELECT {n} AS n, {bounds} FROM {quote(name)}")  # aggregates: one row even from an empty table
    spans = {n: (low, high) for n, low, high in con.execute(" UNION ALL ".join(dates)).fetchall()} if dates else {}
    referring: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name in names:
        for column, target, target_column in tables[name].references:
            if target in holding:
                referring.setdefault((target, target_column), []).append((name, column))
    shares: dict[tuple[str, str], ReferenceShare] = {}
    for (target, target_column), sources in referring.items():
        # a target's key is distinct already (a table loaded with a key used twice is refused)
        distinct = "" if tables[target].key == (target_column,) else "DISTINCT "
        values = " UNION ALL ".join(f"SELECT {n} AS r, {quote(column)} AS v FROM {quote(name)}" for n, (name, column) in enumerate(sources))
        missing = "s.v IS NOT NULL AND k.k IS NULL"
        rows = con.execute(
            f"SELECT r, count(s.v), count(*) FILTER (WHERE {missing}), min(s.v, {EXAMPLES_PER_PROBLEM}) FILTER (WHERE {missing}) "
            f"FROM ({values}) s LEFT JOIN (SELECT {distinct}{quote(target_column)} AS k FROM {quote(target)}) k ON s.v = k.k GROUP BY r"
        ).fetchall()
        counted = {r: (count, unmatched, examples) for r, count, unmatched, examples in rows}
        for n, (name, column) in enumerate(sources):
            count, unmatched, examples = counted.get(n, (0, 0, None))
            shares[(name, column)] = ReferenceShare(name, column, f"{target}.{target_column}", count, count - unmatched, tuple(examples or ()))
    found = {}
    for n, name in enumerate(names):
        references = tuple(shares[(name, column)] for column, target, _ in tables[name].references if (name, column) in shares)
        low, high = spans[n]
        found[name] = TableSurvey(name, _as_date(low), _as_date(high), references)
    return found


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value
