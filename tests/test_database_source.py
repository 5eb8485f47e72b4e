"""A council's database as the source: a real PostgreSQL server, started for the test session in a
temporary folder (as an unprivileged user when the tests run as root) and stopped at its end, holding
the demo council as Eclipse's SSD tables. The scorecard it gives is the one the same data give from
files; every fault of the URL, the server or the tables is one line and exit 2; no password is shown.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from kpi import database_source, demo
from kpi.extracts import table_definitions
from tests import ssd_dialects
from tests.conftest import REPO, Kpi

PASSWORD = "pw-Kq7zX9"
USER = "kpi"
SCHEMA = "eclipse"


def _postgres_bin() -> Path | None:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as `nobody` then."""
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def server():
    """(host, port) of a throwaway PostgreSQL cluster with the user kpi (password PASSWORD), stopped at the end."""
    binaries = _postgres_bin()
    if binaries is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL's initdb, pg_ctl and psql are not installed (apt-get install postgresql): .ci/run installs them")
    folder = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    data, port = folder / "data", _free_port()
    (folder / "password").write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        shutil.chown(folder / "password", "nobody")
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
                                    f"--pwfile={folder / 'password'}", "-E", "UTF8", "--locale=C"]),
                   check=True, capture_output=True, cwd=folder)
    options = f"-k {folder} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]),
                   check=True, capture_output=True, cwd=folder)
    try:
        yield "127.0.0.1", port
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def _psql(host: str, port: int, sql: str, database: str = "postgres") -> None:
    environment = os.environ | {"PGPASSWORD": PASSWORD}
    subprocess.run(["psql", "-h", host, "-p", str(port), "-U", USER, "-d", database, "-v", "ON_ERROR_STOP=1", "-q"],
                   input=sql, text=True, check=True, capture_output=True, env=environment)


@pytest.fixture(scope="session")
def council():
    return demo.generate()


@pytest.fixture(scope="session")
def eclipse_files(council, tmp_path_factory) -> Path:
    return ssd_dialects.write(council, "eclipse", tmp_path_factory.mktemp("eclipse"))


@pytest.fixture(scope="session")
def database(server, eclipse_files) -> str:
    """The URL (password included) of the database `ssd` holding the demo council as Eclipse's tables:
    dates typed TIMESTAMP, the rest text, NULL for no value."""
    host, port = server
    _psql(host, port, "CREATE DATABASE ssd")
    tables = table_definitions(REPO / "schemas")
    statements = [f"CREATE SCHEMA {SCHEMA};"]
    for path in sorted(eclipse_files.glob("*.csv")):
        name = path.stem
        header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        columns = ", ".join(f'"{c}" text' for c in header)
        null = "NULL" if name.startswith("ssd_") else ""
        statements.append(f'CREATE TABLE {SCHEMA}."{name}" ({columns});')
        statements.append(f"\\copy {SCHEMA}.\"{name}\" FROM '{path}' WITH (FORMAT csv, HEADER true, NULL '{null}')")
        definition = tables.get(name)
        for column in header:
            kind = definition.column(column).type if definition and definition.column(column) else None
            if kind in ("date", "timestamp") and name.startswith("ssd_"):
                statements.append(f'ALTER TABLE {SCHEMA}."{name}" ALTER COLUMN "{column}" TYPE timestamp '
                                  f"USING to_timestamp(\"{column}\", 'DD/MM/YYYY HH24:MI')::timestamp;")
    _psql(host, port, "\n".join(statements), "ssd")
    return f"postgresql://{USER}:{PASSWORD}@{host}:{port}/ssd?schema={SCHEMA}"


@pytest.fixture(scope="module")
def kpi_module() -> Kpi:
    return Kpi()


def _json(kpi, *args, exit_code: int = 1) -> tuple[dict, str]:
    """The JSON scorecard and stderr; exit 1 by default: some indicators the SSD cannot give (test_profiles_dialects.py)."""
    result = kpi("compute", "--source", "ssd-eclipse", "--period", "2017-09", *args, "--format", "json")
    assert result.exit_code == exit_code, result.stderr
    return json.loads(result.stdout), result.stderr


def test_the_database_gives_the_scorecard_the_same_data_give_from_files(database, eclipse_files, kpi_module):
    from_files, _ = _json(kpi_module, "--data", eclipse_files)
    from_database, stderr = _json(kpi_module, "--data", database)
    for scorecard in (from_files, from_database):
        scorecard.pop("provenance")
    assert from_database == from_files
    assert sum(1 for i in from_database["indicators"] if i["error"] is None) > 30
    assert PASSWORD not in stderr


def test_the_password_is_masked_in_provenance_and_output(database, kpi_module):
    scorecard, stderr = _json(kpi_module, "--data", database)
    text = json.dumps(scorecard)
    assert PASSWORD not in text and PASSWORD not in stderr
    provenance = scorecard["provenance"]
    assert provenance["data"].startswith(f"postgresql://{USER}:***@127.0.0.1:")
    tables = {t["table"]: t for t in provenance["tables"]}
    assert tables["ssd_cin_episodes"]["file"].endswith(f"(table {SCHEMA}.ssd_cin_episodes)")
    assert tables["ssd_cin_episodes"]["rows"] > 0 and tables["ssd_cin_episodes"]["sha256"] is None


def test_the_password_can_come_from_pgpassword_or_pgpass(database, kpi_module, monkeypatch, tmp_path):
    without = database.replace(f":{PASSWORD}@", "@")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    from_environment, _ = _json(kpi_module, "--data", without, "--indicators", "CSC 013", exit_code=0)
    assert from_environment["indicators"][0]["error"] is None
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"# a comment\nother:*:*:*:nope\n127.0.0.1:*:ssd:{USER}:{PASSWORD}\n")
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    from_file, _ = _json(kpi_module, "--data", without, "--indicators", "CSC 013", exit_code=0)
    assert from_file["indicators"][0] == from_environment["indicators"][0]


def test_only_the_needed_tables_and_columns_are_read(server, database, kpi_module):
    """A column the run does not need is not read: here one of a type the reader cannot read at all."""
    host, port = server
    _psql(host, port, f"CREATE SCHEMA wide; CREATE TABLE wide.ssd_cin_episodes AS SELECT * FROM {SCHEMA}.ssd_cin_episodes;"
                      "ALTER TABLE wide.ssd_cin_episodes ADD COLUMN cine_where point DEFAULT point(1, 2);", "ssd")
    url = database.replace(f"schema={SCHEMA}", "schema=wide")
    result = kpi_module("compute", "--source", "ssd-eclipse", "--period", "2017-09", "--data", url,
                        "--indicators", "CSC 013", "--format", "json")
    assert result.exit_code == 0, result.stderr
    read = {t["table"] for t in json.loads(result.stdout)["provenance"]["tables"]}
    assert read == {"ssd_cin_episodes"}  # its other tables, and ref_benchmarks, are not in the schema wide


def test_a_value_that_cannot_be_read_names_the_database_table_and_row(server, database, kpi_module):
    host, port = server
    _psql(host, port, f"CREATE SCHEMA broken; CREATE TABLE broken.ssd_cin_episodes AS SELECT * FROM {SCHEMA}.ssd_cin_episodes;"
                      "ALTER TABLE broken.ssd_cin_episodes ALTER COLUMN cine_referral_date TYPE text;"
                      "UPDATE broken.ssd_cin_episodes SET cine_referral_date = 'not a date' "
                      "WHERE cine_referral_id = (SELECT min(cine_referral_id) FROM broken.ssd_cin_episodes);", "ssd")
    url = database.replace(f"schema={SCHEMA}", "schema=broken")
    result = kpi_module("compute", "--source", "ssd-eclipse", "--period", "2017-09", "--data", url, "--indicators", "CSC 013")
    assert result.exit_code == 2, result.stderr
    # rows are numbered in the order of the table's key, so row 1 is the smallest referral id
    assert "(table broken.ssd_cin_episodes), row 1, column `cine_referral_date`: 'not a date'" in result.stderr
    assert f"{USER}:***@" in result.stderr and PASSWORD not in result.stderr


@pytest.mark.parametrize("change, expected", [
    (lambda url: url.replace(f":{PASSWORD}@", ":wrong-pw@"), 'password authentication failed for user "kpi"'),
    (lambda url: url.replace("schema=eclipse", "schema=ssd_development"), "has no schema ssd_development"),
    (lambda url: url.replace("/ssd?", "/nodb?"), 'database "nodb" does not exist'),
])
def test_a_fault_of_the_server_is_one_line_with_the_password_masked(database, kpi_module, change, expected):
    result = kpi_module("compute", "--source", "ssd-eclipse", "--period", "2017-09", "--data", change(database), "--indicators", "CSC 013")
    assert result.exit_code == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert PASSWORD not in result.stderr and "wrong-pw" not in result.stderr and "***" in result.stderr


def test_a_missing_table_is_named_with_the_indicators_needing_it(server, database, kpi_module):
    host, port = server
    _psql(host, port, "CREATE SCHEMA empty; CREATE TABLE empty.unrelated (a int)", "ssd")
    url = database.replace(f"schema={SCHEMA}", "schema=empty")
    result = kpi_module("compute", "--source", "ssd-eclipse", "--period", "2017-09", "--data", url, "--indicators", "CSC 013")
    assert result.exit_code == 2
    assert "has no table empty.ssd_cin_episodes, and CSC 013 need it" in result.stderr
    assert PASSWORD not in result.stderr


def test_a_refused_connection_is_one_line_at_once(kpi_module):
    url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}/ssd"
    result = kpi_module("compute", "--period", "2017-09", "--data", url)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot connect to postgresql://kpi:***@127.0.0.1:" in result.stderr and "refused" in result.stderr.lower()
    assert PASSWORD not in result.stderr


@pytest.mark.parametrize("url, expected", [
    (f"postgresql://kpi:{PASSWORD}@host:notaport/ssd", "cannot be read"),
    (f"mysql://kpi:{PASSWORD}@host/ssd", "starts with mysql://"),
    (f"mssql://kpi:{PASSWORD}@host:1433/ssd?tables=ssd", "does not say where the table name goes"),
    (f"mssql://kpi:{PASSWORD}@host:1433", "names no database"),
])
def test_a_bad_url_is_one_line_with_the_password_masked(kpi_module, url, expected):
    result = kpi_module("compute", "--period", "2017-09", "--data", url)
    assert result.exit_code == 2 and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and PASSWORD not in result.stderr


def test_help_shows_how_to_give_a_database_and_no_password(kpi_module):
    result = kpi_module("compute", "--help")
    assert "database URL" in result.stdout and "docs/database.md" in result.stdout


def test_a_url_in_kpi_toml_is_kept_as_written(tmp_path):
    from kpi.config import read_config

    (tmp_path / "kpi.toml").write_text('data = "postgresql://kpi@reporting/ssd?schema=ssd_development"\n')
    assert read_config(tmp_path / "kpi.toml").data == "postgresql://kpi@reporting/ssd?schema=ssd_development"


def test_sql_server_urls_share_the_reader():
    """SQL Server cannot run here: its URL is parsed by the same code, the driver chosen by the scheme,
    Windows authentication passed through to the driver, the Mosaic pattern read, the password masked."""
    url = database_source.parse_url("mssql://kpi:se%3Acret@reporting:1433/ssd?schema=ssd_development&encrypt=true")
    assert (url.driver, url.schema, url.tables, url.password) == ("mssql", "ssd_development", "{table}", "se:cret")
    assert "se:cret" not in url.shown and "se%3Acret" not in url.shown and url.shown.startswith("mssql://kpi:***@reporting:1433/ssd?")
    assert "encrypt=true" in url.connect and "schema" not in url.connect
    windows = database_source.parse_url("mssql://reporting/ssd?trusted_connection=true&tables=%23%23{table}")
    assert windows.tables == "##{table}" and "trusted_connection=true" in windows.connect and windows.password is None
    assert database_source.mask("login failed for se:cret", url) == "login failed for ***"


def test_check_data_refuses_a_database_url_without_showing_the_password(kpi_module):
    result = kpi_module("check-data", "--data", f"postgresql://kpi:{PASSWORD}@127.0.0.1:1/ssd")
    assert result.exit_code == 2 and "check-data reads files" in result.stderr and "kpi:***@" in result.stderr
    assert PASSWORD not in result.stderr


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30))
def test_any_password_is_masked_in_the_url_shown(password):
    from urllib.parse import quote

    for scheme in ("postgresql", "mssql"):
        url = database_source.parse_url(f"{scheme}://u:{quote(password, safe='')}@h:5432/d")
        assert url.password == password
        assert url.shown == f"{scheme}://u:***@h:5432/d"
        assert database_source.mask(password, url) == "***"


@pytest.mark.parametrize("url, shown", [
    ("postgresql://kpi:p@ss/w:rd@host/db", "postgresql://kpi:***@host/db"),
    ("postgresql://kpi@host/db?sslmode=require&password=p4ss", "postgresql://kpi@host/db?sslmode=require&password=***"),
    ("mssql://host:nope/db", "mssql://host:nope/db"),
])
def test_a_url_that_may_not_parse_is_shown_without_its_password(url, shown):
    assert database_source.masked_url(url) == shown


def test_a_password_given_as_a_parameter_is_not_shown():
    url = database_source.parse_url("postgresql://kpi@host:5432/db?password=p4ss&sslmode=require")
    assert "p4ss" not in url.shown and url.shown.startswith("postgresql://kpi:***@host:5432/db?sslmode=require")
    assert url.password == "p4ss"


def test_a_timestamp_keeps_its_time_and_a_date_is_a_date(database):
    """The reader's Arrow types as DuckDB takes them (connectorx 0.4.4 read a timestamp as a date)."""
    import duckdb

    url = database_source.parse_url(database)
    stream = database_source._fetch(url, "SELECT timestamp '2017-09-30 14:05' AS t, date '2017-09-30' AS d, 7::bigint AS n", stream=True)
    con = duckdb.connect()
    con.register("s", stream)
    assert con.execute("SELECT CAST(t AS VARCHAR), CAST(d AS VARCHAR), n FROM s").fetchall() == [("2017-09-30 14:05:00", "2017-09-30", 7)]
