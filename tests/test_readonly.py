"""Commands that read never write: no database created, no journal mode switched, no schema built;
and --db honoured wherever it stands. On both engines where it applies."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from pages import GARDENS, WAVELETS, compact_page

from etl import db
from etl.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main

READING_COMMANDS = [
    ["runs"],
    ["runs", "show", "1"],
    ["runs", "show", "last"],
    ["search", "wavelets"],
    ["export", "papers"],
    ["db", "current"],
]


def with_db(command: list[str], url: str) -> list[str]:
    return [*command, "--db", url]


@pytest.mark.parametrize("command", [*READING_COMMANDS, ["rebuild"]], ids=" ".join)
def test_a_mistyped_sqlite_path_is_refused_and_not_created(runner, tmp_path, command):
    mistyped = tmp_path / "paper.db"

    result = runner.invoke(main, with_db(command, f"sqlite:///{mistyped}"))

    assert result.exit_code == EXIT_FAILURE
    assert f"no database file at {mistyped}; check the path" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def rollback_journal_db(runner, tmp_path, page_dir) -> Path:
    """A loaded SQLite database switched back to a rollback journal (as a database made by another tool is)."""
    path = tmp_path / "papers.db"
    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS])})
    assert runner.invoke(main, ["load", "--db", f"sqlite:///{path}", str(folder)]).exit_code == EXIT_OK
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_reading_commands_leave_the_bytes_of_a_rollback_journal_database_as_they_are(
    runner, rollback_journal_db, command
):
    before = hashlib.sha256(rollback_journal_db.read_bytes()).hexdigest()
    files = sorted(p.name for p in rollback_journal_db.parent.iterdir())

    result = runner.invoke(main, with_db(command, f"sqlite:///{rollback_journal_db}"))

    assert result.exit_code == EXIT_OK, result.output
    assert hashlib.sha256(rollback_journal_db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in rollback_journal_db.parent.iterdir()) == files  # no -wal, no -shm


def test_a_read_only_engine_cannot_write_on_either_engine(engine):
    db_url = engine.url.render_as_string(hide_password=False)
    reader = db.create_engine(db_url, read_only=True)
    try:
        with pytest.raises(sa.exc.DBAPIError) as info, reader.begin() as conn:
            conn.execute(sa.text("CREATE TABLE intruder (x INTEGER)"))
        assert "read" in str(info.value).lower()  # "readonly database" / "read-only transaction"
        with reader.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM papers")).scalar_one() == 0
    finally:
        reader.dispose()


def test_rebuild_refuses_a_database_papers_etl_did_not_make(runner, empty_engine, db_url):
    with empty_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (body TEXT)"))

    result = runner.invoke(main, ["rebuild", "--db", db_url])

    assert result.exit_code == EXIT_FAILURE
    assert "is not a papers-etl database" in result.stderr
    assert sa.inspect(empty_engine).get_table_names() == ["notes"]


def test_rebuild_refuses_an_empty_database_and_builds_no_schema(runner, empty_engine, db_url):
    if db_url.startswith("sqlite"):
        Path(empty_engine.url.database).touch()

    result = runner.invoke(main, ["rebuild", "--db", db_url])

    assert result.exit_code == EXIT_FAILURE and "is not a papers-etl database" in result.stderr
    assert "rebuilt" not in result.output
    assert sa.inspect(empty_engine).get_table_names() == []


@pytest.fixture
def two_databases(runner, tmp_path, page_dir):
    """A with one run of one file, B with two runs (the second refuses a file)."""
    a, b = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    folder = page_dir({"w.txt": compact_page([WAVELETS]), "empty.txt": ""})
    assert runner.invoke(main, ["load", "--db", a, str(folder / "w.txt")]).exit_code == EXIT_OK
    assert runner.invoke(main, ["load", "--db", b, str(folder / "w.txt")]).exit_code == EXIT_OK
    runner.invoke(main, ["load", "--db", b, str(folder)])
    return a, b


@pytest.mark.parametrize(
    "arguments",
    [
        ["runs", "--db", "{b}", "show", "2"],
        ["runs", "show", "2", "--db", "{b}"],
        ["runs", "--db", "{b}", "show", "2", "--db", "{b}"],
        ["runs", "--db", "{b}", "show", "last"],
    ],
    ids=" ".join,
)
def test_runs_show_honours_db_wherever_it_stands(runner, two_databases, arguments):
    a, b = two_databases
    result = runner.invoke(main, [*(arg.format(b=b) for arg in arguments), "--json"], env={db.ENV_VAR: a})

    assert result.exit_code == EXIT_OK, result.output
    shown = json.loads(result.output)
    assert (shown["run_id"], shown["status"]) == (2, "partial")


def test_runs_show_refuses_two_different_databases(runner, two_databases):
    a, b = two_databases
    result = runner.invoke(main, ["runs", "--db", a, "show", "1", "--db", b])
    assert result.exit_code == EXIT_USAGE and "--db is given twice" in result.stderr


@pytest.mark.parametrize("limit", ["0", "-1", "x"])
def test_runs_limit_must_be_a_positive_number(runner, two_databases, limit):
    result = runner.invoke(main, ["runs", "--limit", limit, "--db", two_databases[1]])
    assert result.exit_code == EXIT_USAGE
    assert "no runs yet" not in result.output


def test_runs_show_last_on_both_engines(runner, db_url, page_dir):
    folder = page_dir({"w.txt": compact_page([WAVELETS]), "g.txt": compact_page([GARDENS])})
    runner.invoke(main, ["load", "--db", db_url, str(folder / "w.txt")])
    runner.invoke(main, ["load", "--db", db_url, str(folder / "g.txt")])

    result = runner.invoke(main, ["runs", "show", "last", "--json", "--db", db_url])

    assert result.exit_code == EXIT_OK and (json.loads(result.output)["run_id"], result.exit_code) == (2, EXIT_OK)
    assert json.loads(result.output)["status"] == "succeeded"
    bad = runner.invoke(main, ["runs", "show", "first", "--db", db_url])
    assert bad.exit_code == EXIT_USAGE and "give a number" in bad.stderr
