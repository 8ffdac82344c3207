"""Issue 15: the run record tells the truth (full disk, a server that goes away, -q), on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import _postgres_url, scalar
from pages import compact_page
from test_pipeline import finish, paused_load

from etl import db, load
from etl.cli import EXIT_FAILURE
from etl.errors import DatabaseError
from etl.pipeline import run_load


def many_pages(page_dir, count: int = 30):
    return page_dir(
        {
            f"f{i:02}.txt": compact_page(
                [(f"Paper {i}-{j} On Things", f"Abstract {i}-{j} " + "word " * 300) for j in range(20)]
            )
            for i in range(count)
        }
    )


def fill_the_disk(engine, after_files: int) -> None:
    """Make writes fail as on a full disk once ``after_files`` files are in: SQLite by a page limit on
    every connection, PostgreSQL by a trigger raising disk_full (SQLSTATE 53100), as the server would."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        engine.dispose()

        @sa.event.listens_for(engine, "connect")
        def limit(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 40 * after_files}")

        return
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"""CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                IF (SELECT count(*) FROM source_files) >= {after_files} THEN
                    RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
                        USING ERRCODE = 'disk_full';
                END IF; RETURN NEW; END $$"""
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER full_disk BEFORE INSERT ON source_files FOR EACH ROW EXECUTE FUNCTION full_disk()"
        )


@pytest.mark.parametrize("commit_seconds", [0, 3600], ids=["commit-per-file", "one-commit"])
def test_on_a_full_disk_the_run_counts_only_committed_files_and_says_the_disk_is_full(
    engine, page_dir, monkeypatch, commit_seconds
):
    folder = many_pages(page_dir)
    fill_the_disk(engine, after_files=3)
    monkeypatch.setattr(load.session, "COMMIT_SECONDS", {"sqlite": commit_seconds, "postgresql": commit_seconds})

    with pytest.raises(DatabaseError) as info:
        run_load(engine, [folder], parse_process=False)

    message = str(info.value)
    assert "the disk is full" in message and "savepoint" not in message and "server" not in message
    run = db_run(engine)
    assert run.status == "failed" and "the disk is full" in run.message
    assert run.files_seen < 30  # it stopped part way
    assert run.files_loaded == scalar(engine, "SELECT count(*) FROM source_files")
    if commit_seconds == 0:
        assert run.files_loaded >= 3


def db_run(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM etl_runs ORDER BY run_id DESC")).first()


def test_a_postgresql_server_going_away_mid_load_gives_one_line_and_no_traceback(request, page_dir, processes):
    db_url = _postgres_url(request)  # PostgreSQL only: SQLite has no server to lose
    folder = many_pages(page_dir, 3)
    load = paused_load(["load", "--db", db_url, "--no-parse-process", str(folder)], "mid-file", 1)
    processes.append(load)
    engine = db.create_engine(db_url)
    try:
        with engine.connect() as conn:  # what a server restart does to every session of the load
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        engine.dispose()
    load.stdin.write("\n")
    load.stdin.flush()

    status, _, err = finish(load)

    assert status == EXIT_FAILURE
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) <= 3, err  # the error, and at most a warning that the run could not be marked failed
    assert "check that the server is up" in lines[-1]
