"""papers-etl db grant-readonly: a BI role reads every table and view, now and later, and writes nothing."""

from __future__ import annotations

import os

import analyst_pages as ap
import psycopg
import pytest
import sqlalchemy as sa
from conftest import _postgres_url

from etl import db
from etl.cli import EXIT_FAILURE, main

ROLE = f"papers_etl_bi_{os.getpid()}"  # roles are cluster-wide: one per test process


@pytest.fixture
def pg_url(request, page_dir) -> str:
    url = _postgres_url(request)
    engine = db.create_engine(url)
    ap.load_pages(engine, page_dir(ap.PAGES))
    engine.dispose()
    return url


@pytest.fixture
def bi_role(pg_url):
    admin = psycopg.connect(**_connection_args(pg_url), autocommit=True)
    admin.execute(f"DROP ROLE IF EXISTS {ROLE}")
    admin.execute(f"CREATE ROLE {ROLE} LOGIN")
    yield ROLE
    admin.execute(f"DROP OWNED BY {ROLE}")  # its privileges and default privileges in this database
    admin.execute(f"DROP ROLE {ROLE}")
    admin.close()


def _connection_args(url: str, user: str | None = None) -> dict:
    parsed = sa.make_url(url)
    return {"host": parsed.host, "port": parsed.port, "dbname": parsed.database, "user": user or parsed.username}


def connect_as(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(**_connection_args(url, role), autocommit=True)  # trust authentication on the test server


def can_run(conn: psycopg.Connection, sql: str) -> bool:
    try:
        conn.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def test_the_role_reads_tables_and_views_and_cannot_write(runner, pg_url, bi_role):
    with connect_as(pg_url, bi_role) as before:
        assert not can_run(before, "SELECT count(*) FROM papers")

    result = runner.invoke(main, ["db", "grant-readonly", "--db", pg_url, bi_role])
    assert result.exit_code == 0, result.output
    assert f"{bi_role} can read every table and view in schema public" in result.output

    with connect_as(pg_url, bi_role) as bi:
        assert bi.execute("SELECT count(*) FROM papers").fetchone() == (len(ap.TITLES),)
        assert bi.execute("SELECT count(*) FROM paper_summary").fetchone() == (len(ap.TITLES),)
        for table in ("paper_links", "listings", "source_files", "etl_runs", "rejects"):
            assert can_run(bi, f"SELECT * FROM {table} LIMIT 1"), table
        for view in ("monthly_publications", "github_repositories", "listing_days", "author_count_distribution"):
            assert can_run(bi, f"SELECT * FROM {view} LIMIT 1"), view
        assert bi.execute(
            "SELECT title FROM papers WHERE search_vector @@ plainto_tsquery('english', 'codebooks')"
        ).fetchone() == (ap.F[0],)

        for write in (
            "INSERT INTO papers (title, title_key, abstract, created_at, updated_at) "
            "VALUES ('x', 'x', 'x', now(), now())",
            "UPDATE papers SET title = 'changed'",
            "DELETE FROM papers",
            "DELETE FROM listings",
            "TRUNCATE rejects",
            "CREATE TABLE mine (a integer)",
            "CREATE VIEW mine AS SELECT 1 AS a",
            "DROP VIEW paper_summary",
            "ALTER TABLE papers ADD COLUMN extra integer",
        ):
            assert not can_run(bi, write), write


def test_tables_and_views_created_later_are_readable_too(runner, pg_url, bi_role):
    runner.invoke(main, ["db", "grant-readonly", "--db", pg_url, bi_role])
    owner = psycopg.connect(**_connection_args(pg_url), autocommit=True)
    owner.execute("CREATE TABLE later_table (a integer)")
    owner.execute("CREATE VIEW later_view AS SELECT paper_id FROM papers")
    owner.close()

    with connect_as(pg_url, bi_role) as bi:
        assert can_run(bi, "SELECT * FROM later_table")
        assert bi.execute("SELECT count(*) FROM later_view").fetchone() == (len(ap.TITLES),)
        assert not can_run(bi, "INSERT INTO later_table VALUES (1)")


def test_granting_twice_is_harmless(runner, pg_url, bi_role):
    first = runner.invoke(main, ["db", "grant-readonly", "--db", pg_url, bi_role])
    second = runner.invoke(main, ["db", "grant-readonly", "--db", pg_url, bi_role])
    assert first.exit_code == second.exit_code == 0


def test_an_unknown_role_is_one_line(runner, pg_url):
    result = runner.invoke(main, ["db", "grant-readonly", "--db", pg_url, "no_such_role_here"])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.count("\n") == 1 and "role 'no_such_role_here' does not exist" in result.stderr


def test_on_sqlite_it_explains_in_one_line(runner, tmp_path):
    result = runner.invoke(main, ["db", "grant-readonly", "--db", f"sqlite:///{tmp_path / 'p.db'}", "bi"])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.count("\n") == 1 and "grant-readonly is for PostgreSQL" in result.stderr
