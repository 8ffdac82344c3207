"""Shared fixtures.

Every database-facing test takes ``engine`` (or ``db_url`` / ``empty_engine``),
parametrised over SQLite and PostgreSQL. PostgreSQL comes from pytest-postgresql:
the server on 127.0.0.1:5432 when it answers, else a server pytest-postgresql
starts with ``pg_ctl``; if neither is possible the PostgreSQL tests skip, unless
PAPERS_ETL_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from pytest_postgresql import factories

from etl import db

TESTS = Path(__file__).parent
DATA = TESTS / "data"
PROJECT_ROOT = TESTS.parent
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
CAPTURES = PROJECT_ROOT.parent / "shared" / "captures"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REQUIRE_POSTGRES = os.environ.get("PAPERS_ETL_REQUIRE_POSTGRES") == "1"


def _server_answers() -> bool:
    try:
        psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _pg_ctl() -> str | None:
    found = shutil.which("pg_ctl") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1:]), None)
    return found if found and os.geteuid() != 0 else None  # initdb refuses to run as root


# One database name per test process (its template included), so that two checkouts can run the suite at once.
PG_DBNAME = f"papers_etl_tests_{os.getpid()}"

if _server_answers():
    pg_server = factories.postgresql_noproc(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DBNAME)
    PG_UNAVAILABLE = None
elif _pg_ctl():
    pg_server = factories.postgresql_proc(executable=_pg_ctl(), port=None)
    PG_UNAVAILABLE = None
else:
    pg_server = None
    PG_UNAVAILABLE = f"no PostgreSQL server answers on {PG_HOST}:{PG_PORT} and pg_ctl is not usable here"

if pg_server is not None:
    pg_database = factories.postgresql("pg_server", dbname=PG_DBNAME)


def _postgres_url(request: pytest.FixtureRequest) -> str:
    if PG_UNAVAILABLE:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PAPERS_ETL_REQUIRE_POSTGRES=1 but {PG_UNAVAILABLE}")
        pytest.skip(PG_UNAVAILABLE)
    conn = request.getfixturevalue("pg_database")
    info = conn.info
    password = f":{info.password}" if info.password else ""
    return f"postgresql+psycopg://{info.user}{password}@{info.host}:{info.port}/{info.dbname}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a new, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'papers.db'}"
    return _postgres_url(request)


@pytest.fixture
def empty_engine(db_url: str):
    engine = db.create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine):
    """An engine on a database already at the head schema revision."""
    db.upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def processes():
    """Processes a test started; any still alive at the end is killed (by its pid), so none outlives the test."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(60)


@pytest.fixture
def engine_of():
    """engine_of(url): an engine disposed of at the end of the test."""
    engines = []

    def make(url: str):
        engines.append(db.create_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the real captures are not here ({SEEDS}); CI and developer machines have ../shared/seeds")
    return SEEDS


@pytest.fixture
def real_captures() -> Path:
    if not CAPTURES.is_dir():
        pytest.skip(f"the real Markdown captures are not here ({CAPTURES}); CI and developer machines have them")
    return CAPTURES


@pytest.fixture
def page_dir(tmp_path: Path):
    """Write pages into a folder of their own: page_dir({"a.txt": text, ...}) -> folder."""

    def write(pages: dict[str, str | bytes]) -> Path:
        folder = tmp_path / "pages"
        folder.mkdir(exist_ok=True)
        for name, content in pages.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return folder

    return write


# --------------------------------------------------------------------------- reading results

DATE_COLUMNS = {"published_on": sa.Date, "listed_on": sa.Date}
TIMESTAMP_COLUMNS = {"created_at": sa.DateTime, "updated_at": sa.DateTime}


def rows(engine, sql: str, **params) -> list[tuple]:
    """Rows of a raw query; date and timestamp columns typed as Core would (SQLite stores them as text)."""
    statement = sa.text(sql)
    typed = {name: type_ for name, type_ in (DATE_COLUMNS | TIMESTAMP_COLUMNS).items() if name in sql}
    if typed:
        statement = statement.columns(**typed)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(statement, params)]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()
