"""A council's reporting database as the source of the extract tables: the SSD's `ssd_*` tables read
where its SQL built them (PostgreSQL for Eclipse, SQL Server for SystemC and Mosaic), through one
Arrow-native reader (connectorx; the URL's scheme picks its driver), straight into DuckDB in batches.

Only the tables and columns the run needs are read, before the DuckDB connection is locked; each staged
table then goes through the source profile and the typed conversion as a file would (extracts.load_table).
A password never leaves this module unmasked: every message, record and output shows `***`.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import parse_qsl, quote as url_quote, unquote, urlencode, urlsplit, urlunsplit

import duckdb

from kpi.extracts import Source, Table, load_table, quote
from kpi.issues import Issue, KpiError

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "mssql": "mssql", "sqlserver": "mssql"}
DEFAULT_PORTS = {"postgresql": 5432, "mssql": 1433}
# URL query parameters kpi reads itself (the others go to the driver).
KPI_PARAMETERS = ("schema", "tables")
BATCH_ROWS = 100_000
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_database_url(data: object) -> bool:
    """Whether `--data` (or kpi.toml's `data`) names a database rather than a folder or file."""
    return isinstance(data, str) and bool(_URL.match(data))


def data_location(value: str) -> Path | str:
    """`--data` as given: a database URL kept as text (a Path would fold its `//`), else a path."""
    return value if is_database_url(value) else Path(value)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL: the driver, what the user may see (password masked), what the driver gets."""

    driver: str  # postgresql | mssql
    shown: str  # the URL with its password as ***, without kpi's own parameters
    connect: str  # the URL the driver is given: the password filled in from the environment when missing
    host: str | None
    port: int | None
    schema: str | None
    tables: str  # the table-name pattern: `{table}` is the canonical name (Mosaic: `##{table}`)
    password: str | None


def mask(text: str, url: DatabaseUrl | None) -> str:
    """`text` with the URL's password (as written and percent-encoded) replaced by ***."""
    if url is None or not url.password:
        return text
    for secret in {url.password, url_quote(url.password, safe=""), url_quote(url.password)}:
        text = text.replace(secret, "***")
    return text


def masked_url(text: str) -> str:
    """A URL as it may be shown: the password, if any, as *** (the URL need not parse: everything
    between the user's colon and the last `@` is masked, and a `password=` parameter)."""
    scheme, separator, rest = text.partition("://")
    at = rest.rfind("@")
    if separator and at >= 0 and ":" in rest[:at]:
        rest = rest[:at].split(":", 1)[0] + ":***" + rest[at:]
    return scheme + separator + re.sub(r"([?&]password=)[^&]*", r"\1***", rest)


def parse_url(text: str) -> DatabaseUrl:
    """The database URL `text`, or a KpiError (masked) saying what is wrong with it."""
    shown_raw = masked_url(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise KpiError(f"the database URL {shown_raw} cannot be read ({error}): write it as "
                       "postgresql://user@host:5432/database or mssql://user@host:1433/database") from None
    driver = SCHEMES.get(parts.scheme.lower())
    if driver is None:
        raise KpiError(f"the database URL {shown_raw} starts with {parts.scheme}://, which kpi cannot read: "
                       "use postgresql:// (Eclipse) or mssql:// (SystemC, Mosaic)")
    database = unquote(parts.path.lstrip("/"))
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in KPI_PARAMETERS}
    passed = [(k, v) for k, v in query if k not in KPI_PARAMETERS]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    host = unquote(parts.hostname) if parts.hostname else None
    given_host = dict(passed).get("host")
    if driver == "postgresql":
        host = host or given_host or os.environ.get("PGHOST") or "localhost"
        port = port or _int(dict(passed).get("port")) or _int(os.environ.get("PGPORT")) or DEFAULT_PORTS[driver]
        user = user or dict(passed).get("user") or os.environ.get("PGUSER") or getpass.getuser()  # as libpq
        database = database or dict(passed).get("dbname") or os.environ.get("PGDATABASE") or user or ""
        if password is None and "password" not in dict(passed):
            password = os.environ.get("PGPASSWORD") or _pgpass(host, port, database, user)
    elif not host:
        raise KpiError(f"the database URL {shown_raw} names no server: write mssql://user@server:1433/database")
    if not database:
        raise KpiError(f"the database URL {shown_raw} names no database: add it after the server, e.g. {shown_raw.rstrip('/')}/ssd")
    password = password if password is not None else dict(passed).get("password")
    pattern = own.get("tables") or "{table}"
    if "{table}" not in pattern:
        raise KpiError(f"the database URL's `tables` parameter is {pattern!r}, which does not say where the table name goes: "
                       "write e.g. tables=%23%23{table} (for ##ssd_person)")
    connect = _assemble(driver, user, password, host, port, database, passed)
    moved = ("host", "port", "user", "password", "dbname") if driver == "postgresql" else ("password",)  # into the netloc
    shown_query = urlencode([(k, v) for k, v in passed if k not in moved] + list(own.items()), safe="{}/")
    shown = urlunsplit((parts.scheme, _netloc(user, "***" if password else None, host, port), "/" + database, shown_query, ""))
    return DatabaseUrl(driver, shown, connect, host, port, own.get("schema") or None, pattern, password)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _netloc(user: str | None, password: str | None, host: str | None, port: int | None) -> str:
    credentials = ""
    if user:
        credentials = url_quote(user, safe="") + (f":{password if password == '***' else url_quote(password, safe='')}" if password else "") + "@"
    host_text = url_quote(host or "", safe="") if host and host.startswith("/") else (f"[{host}]" if host and ":" in host else host or "")
    return credentials + host_text + (f":{port}" if port else "")


def _assemble(driver: str, user: str | None, password: str | None, host: str | None, port: int | None,
              database: str, passed: list[tuple[str, str]]) -> str:
    """The URL the driver is given (PostgreSQL's host, port, user and password moved into its netloc)."""
    if driver == "postgresql":
        passed = [(k, v) for k, v in passed if k not in ("host", "port", "user", "password", "dbname")]
    return urlunsplit((driver, _netloc(user, password, host, port), "/" + url_quote(database), urlencode(passed), ""))


def _pgpass(host: str, port: int, database: str, user: str | None) -> str | None:
    """The password ~/.pgpass (or PGPASSFILE) gives for this server, database and user, as libpq reads it."""
    path = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    wanted = ("localhost" if host.startswith("/") else host, str(port), database, user or "")
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.replace("\\:", ":").replace("\\\\", "\\") for f in re.split(r"(?<!\\):", line, maxsplit=4)]
        if len(fields) == 5 and all(f == "*" or f == w for f, w in zip(fields[:4], wanted)):
            return fields[4]
    return None


# --- Reading ----------------------------------------------------------------------------------------

def _reader():
    """connectorx, or a KpiError saying how to install it (it is the optional extra `kpi[database]`)."""
    os.environ.setdefault("RUST_LOG", "off")  # its connection pool would print each retry on stderr
    try:
        import connectorx
    except ImportError:
        raise KpiError("reading a database needs connectorx: install kpi with `pip install 'kpi[database]'`") from None
    return connectorx


def _identifier(name: str, driver: str) -> str:
    return "[" + name.replace("]", "]]") + "]" if driver == "mssql" else quote(name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fetch(url: DatabaseUrl, sql: str, stream: bool = False):
    """The rows of `sql` as Arrow (a RecordBatchReader when `stream`); a KpiError (masked) when it fails."""
    cx = _reader()
    try:
        if stream:
            return cx.read_sql(url.connect, sql, return_type="arrow_stream", batch_size=BATCH_ROWS)
        return cx.read_sql(url.connect, sql, return_type="arrow")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # RuntimeError, and pyo3's PanicException (a BaseException) for a type it cannot read
        raise KpiError(_failure(url, error)) from None


def _failure(url: DatabaseUrl, error: BaseException) -> str:
    """One line: what went wrong reading `url`, and what to do."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for prefix in ("timed out waiting for connection: ", "db error: ", "FATAL: ", "ERROR: "):
        text = text.replace(prefix, "")
    text = mask(text, url)
    if "password" in text.lower() or "login failed" in text.lower():
        hint = "check the user and password (in the URL, PGPASSWORD or ~/.pgpass)"
    else:
        hint = "check the URL, and that the server is running and lets this user in"
    return f"cannot read {url.shown}: {text}: {hint}"


def _check_reachable(url: DatabaseUrl) -> None:
    """Refuse at once a server that is not listening (the reader would retry for half a minute)."""
    if url.host and url.host.startswith("/"):
        socket_file = Path(url.host) / f".s.PGSQL.{url.port}"
        if not socket_file.exists():
            raise KpiError(f"cannot connect to {url.shown}: there is no server on the socket {socket_file}: start the server or correct the URL")
        return
    try:
        socket.create_connection((url.host, url.port), timeout=10).close()
    except OSError as error:
        reason = error.strerror or str(error)
        raise KpiError(f"cannot connect to {url.shown}: {reason} at {url.host}:{url.port}: check the server is running and the host and port are right") from None


def _catalogue(url: DatabaseUrl) -> tuple[str, dict[str, list[str]]]:
    """(the schema read, its tables' columns in order), from information_schema."""
    if url.tables.startswith("#"):  # SQL Server's temporary tables live in tempdb, outside any schema
        sql = ("SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM tempdb.INFORMATION_SCHEMA.COLUMNS "
               "WHERE TABLE_NAME LIKE '##%' ORDER BY TABLE_NAME, ORDINAL_POSITION")
        return "tempdb", _columns(_fetch(url, sql))
    schema = url.schema
    if schema is None:
        current = "SELECT current_schema() AS s" if url.driver == "postgresql" else "SELECT SCHEMA_NAME() AS s"
        schema = _fetch(url, current).column(0).to_pylist()[0]
    found = _fetch(url, f"SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = {_literal(schema)}")
    if not found.column(0).to_pylist()[0]:
        raise KpiError(f"{url.shown} has no schema {schema}: give the schema the SSD was built in, e.g. ?schema=ssd_development")
    sql = ("SELECT table_name AS t, column_name AS c FROM information_schema.columns "
           f"WHERE table_schema = {_literal(schema)} ORDER BY table_name, ordinal_position")
    return schema, _columns(_fetch(url, sql))


def _columns(arrow) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in zip(arrow.column(0).to_pylist(), arrow.column(1).to_pylist()):
        found.setdefault(table, []).append(column)
    return found


def read_columns(table: Table, stored: list[str], renames: Mapping[str, str], profile_text: str) -> list[str]:
    """The columns of a database table the run reads: those that are (renamed to) a column of the
    extract table, and those the source profile's rules for it name (a JSON outcome column, say)."""
    defined = {c.name for c in table.columns}
    return [c for c in stored if renames.get(c, c) in defined or repr(c) in profile_text]


def load_tables(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Table], needed: set[str], url_text: str,
    profile, report, progress: Callable[[str], None] | None, config, absent_ok: Callable[[str], bool],
    users: Callable[[str], str],
) -> tuple[list[str], list, list[Issue]]:
    """Read the needed tables from the database `url_text` into `con` through the profile.

    Returns (the tables loaded, a DataRead per table, the problems). A table the database does not hold
    is a problem unless `absent_ok(name)` (optional: loaded empty later); `users(name)` names the
    indicators needing it. Connection faults are a KpiError of one line, the password masked."""
    from kpi import profiles
    from kpi.provenance import DataRead

    url = parse_url(url_text)
    _reader()
    _check_reachable(url)
    schema, catalogue = _catalogue(url)
    issues: list[Issue] = []
    present = {}
    for name in sorted(needed):
        stored_name = url.tables.replace("{table}", name)
        if stored_name in catalogue:
            present[name] = stored_name
        elif not absent_ok(name):
            issues.append(Issue("missing-table", f"{url.shown} has no table {schema}.{stored_name}, and {users(name)} need it",
                                url.shown, hint=f"build {stored_name} in {schema}, or leave out those indicators"))
    loaded, reads = [], []
    for number, (name, stored_name) in enumerate(sorted(present.items()), start=1):
        started = time.perf_counter()
        table = tables[name]
        renames = profile.renames.get(name, {})
        rules = repr([rule.get(name) for rule in (profile.value_maps, profile.flags, profile.derived, profile.keep_rows)])
        columns = read_columns(table, catalogue[stored_name], renames, rules)
        inverse = {renames.get(c, c): c for c in columns}
        order = [inverse[k] for k in table.key if k in inverse]
        where = stored_name if url.tables.startswith("#") else f"{schema}.{stored_name}"
        source = Source(name, Path(stored_name), "database", shown_as=f"{url.shown} (table {where})", relation=f"_kpi_db_{name}")
        sql = (f"SELECT {', '.join(_identifier(c, url.driver) for c in columns)} FROM "
               + (_identifier(stored_name, url.driver) if url.tables.startswith("#") else f"{_identifier(schema, url.driver)}.{_identifier(stored_name, url.driver)}")
               + (f" ORDER BY {', '.join(_identifier(c, url.driver) for c in order)}" if order else ""))
        # DuckDB scans the reader batch by batch as it stages the rows: they never become Python objects,
        # nor a table of their own before the staged one
        con.register(source.relation, _fetch(url, sql, stream=True))
        try:
            problems = load_table(con, table, source, adapt=profiles.adapter(profile, report),
                                  two_digit_year_pivot=config.two_digit_year_pivot)
        finally:
            con.unregister(source.relation)
        issues.extend(problems)
        rows = 0 if problems else con.execute(f"SELECT count(*) FROM {quote(name)}").fetchall()[0][0]
        if not problems:
            loaded.append(name)
            reads.append(DataRead(name, source.shown, rows))
        if progress:
            state = f"{len(problems)} problem(s)" if problems else f"{rows:,} rows"
            progress(f"[{number}/{len(present)}] {source.shown}: {state} in {time.perf_counter() - started:.1f} s")
    return loaded, reads, issues
