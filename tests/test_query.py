"""papers-etl query: prints a table or CSV, and can never write, on either engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import analyst_pages as ap
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT

from etl import query
from etl.cli import EXIT_FAILURE, EXIT_INTERRUPTED, main
from etl.schema import papers


@pytest.fixture
def loaded_url(runner, db_url, page_dir) -> str:
    result = runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])
    assert result.exit_code == 0, result.output
    return db_url


def paper_count(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()
    engine.dispose()
    return count


def table_cells(output: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


def test_query_prints_a_result_table(runner, loaded_url):
    result = runner.invoke(main, ["query", "--db", loaded_url, "--table",
                                  "SELECT author_count, papers FROM author_count_distribution ORDER BY papers DESC, "
                                  "author_count NULLS LAST LIMIT 3"])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert table_cells(result.stdout) == [["3", "2"], ["NULL", "2"], ["1", "1"]]
    assert result.stderr.strip() == "3 rows"


def test_query_csv_writes_every_row_with_a_header(runner, loaded_url):
    result = runner.invoke(main, ["query", "--db", loaded_url, "--csv",
                                  "SELECT listed_on, new_papers FROM listing_days ORDER BY listed_on"])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout == "listed_on,new_papers\n2026-03-02,3\n2026-03-03,3\n2026-03-04,1\n"


def test_max_rows_caps_the_table_and_says_so(runner, loaded_url):
    sql = "SELECT paper_id FROM papers"
    result = runner.invoke(main, ["query", "--db", loaded_url, "--table", "--max-rows", "2", sql])

    assert result.exit_code == 0, result.output
    assert len(table_cells(result.stdout)) == 2
    assert "2 rows (more not shown" in result.stderr


def test_reading_statements_with_comments_ctes_and_percent_signs_run(runner, loaded_url):
    sql = "-- papers about tables\nWITH t AS (SELECT title FROM papers WHERE title LIKE '%Tabular%') SELECT * FROM t"

    result = runner.invoke(main, ["query", "--db", loaded_url, "--csv", "--", sql])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"title\n{ap.B[0]}\n"


WRITES = [
    "INSERT INTO papers (title, title_key, abstract, created_at, updated_at) VALUES ('x', 'x', 'x', '2026-01-01', "
    "'2026-01-01')",
    "UPDATE papers SET title = 'changed'",
    "DELETE FROM papers",
    "DROP TABLE listings",
    "DROP VIEW paper_summary",
    "CREATE TABLE mine (a INTEGER)",
    "ATTACH DATABASE 'file:/tmp/papers-etl-attached.db?mode=rwc' AS other",
    "PRAGMA query_only = OFF",
    "PRAGMA journal_mode = DELETE",
    "SELECT 1; DELETE FROM papers",
    "SELECT 1; COMMIT; DELETE FROM papers",
    "COPY (SELECT 1) TO PROGRAM 'true'",
    "BEGIN",
]


@pytest.mark.parametrize("sql", WRITES)
def test_statements_that_write_are_refused_in_one_line(runner, loaded_url, sql):
    before = paper_count(loaded_url)

    result = runner.invoke(main, ["query", "--db", loaded_url, sql])

    assert result.exit_code == EXIT_FAILURE, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "refused" in result.stderr or "failed" in result.stderr
    assert paper_count(loaded_url) == before


# The database itself refuses writes even when the keyword check is bypassed.
DISGUISED_WRITES = [
    "INSERT INTO papers (title, title_key, abstract, created_at, updated_at) VALUES ('x', 'x', 'x', '2026-01-01', "
    "'2026-01-01')",
    "UPDATE papers SET title = 'changed'",
    "DELETE FROM papers",
    "DROP TABLE listings",
    "CREATE TABLE mine (a INTEGER)",
    "ATTACH DATABASE 'file:/tmp/papers-etl-attached.db?mode=rwc' AS other",
    "PRAGMA query_only = OFF",
    "PRAGMA user_version = 7",
    "SELECT 1; DELETE FROM papers",
]


@pytest.mark.parametrize("sql", DISGUISED_WRITES)
def test_the_connection_itself_refuses_writes(loaded_url, sql):
    with pytest.raises(query.QueryError), query.read_only_connection(loaded_url) as execute:
        list(execute(sql).rows)
    assert paper_count(loaded_url) == len(ap.TITLES)


def test_a_data_modifying_cte_is_refused_by_the_database(runner, loaded_url):
    sql = "WITH gone AS (DELETE FROM papers RETURNING paper_id) SELECT count(*) FROM gone"

    result = runner.invoke(main, ["query", "--db", loaded_url, sql])

    assert result.exit_code == EXIT_FAILURE
    assert "refused" in result.stderr or "failed" in result.stderr
    assert paper_count(loaded_url) == len(ap.TITLES)


def test_schema_pragmas_and_explain_are_allowed(runner, loaded_url):
    if loaded_url.startswith("sqlite"):
        sql = "PRAGMA table_info(paper_summary)"
    else:
        sql = "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'paper_summary'"

    described = runner.invoke(main, ["query", "--db", loaded_url, "--csv", sql])
    explained = runner.invoke(main, ["query", "--db", loaded_url, "EXPLAIN SELECT * FROM papers"])

    assert described.exit_code == 0, described.output
    assert "first_listed_on" in described.stdout
    assert explained.exit_code == 0, explained.output


def test_bad_sql_is_one_line(runner, loaded_url):
    result = runner.invoke(main, ["query", "--db", loaded_url, "SELECT * FROM no_such_table"])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.count("\n") == 1 and "query failed" in result.stderr and "no_such_table" in result.stderr


def test_a_missing_sqlite_file_is_not_created(runner, tmp_path):
    result = runner.invoke(main, ["query", "--db", f"sqlite:///{tmp_path / 'nope.db'}", "SELECT 1"])

    assert result.exit_code == EXIT_FAILURE and "no database file" in result.stderr
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [("  -- note\n/* block */ (SELECT 1)", "select"), ("with x as (select 1) select * from x", "with"), ("", "")],
)
def test_first_keyword_skips_comments_and_brackets(sql, keyword):
    assert query.first_keyword(sql) == keyword


# --------------------------------------------------------------------------- --timeout and Ctrl-C

# Runs until stopped, on either engine.
RUNAWAY = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(600)",
}


def runaway(url: str) -> str:
    return RUNAWAY["sqlite" if url.startswith("sqlite") else "postgresql"]


def test_timeout_stops_a_runaway_statement(runner, loaded_url):
    result = runner.invoke(main, ["query", "--timeout", "0.5", "--db", loaded_url, runaway(loaded_url)])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr == (
        "Error: query stopped after 0.5 s (--timeout); narrow it, or raise --timeout (0: no limit)\n"
    )


def test_timeout_zero_means_no_limit_and_the_default_is_sixty_seconds(loaded_url):
    with query.run_query(loaded_url, "SELECT 1", timeout=0) as result:
        assert list(result.rows) == [(1,)]
    option = next(p for p in main.commands["query"].params if p.name == "timeout")
    assert option.default == 60


def test_ctrl_c_cancels_a_running_statement(loaded_url, processes):
    process = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "query", "--timeout", "0", "--db", loaded_url, runaway(loaded_url)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    processes.append(process)
    wait_until_running(loaded_url, process)

    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == EXIT_INTERRUPTED
    assert err == "Error: query cancelled (Ctrl-C)\n"
    if not loaded_url.startswith("sqlite"):
        assert running_sleeps(loaded_url) == 0  # cancelled on the server, not only abandoned


def running_sleeps(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(600)%'"
                )
            ).scalar_one()
    finally:
        engine.dispose()


def wait_until_running(url: str, process: subprocess.Popen) -> None:
    """Until the statement runs: on PostgreSQL the server says so; SQLite's statement is running once the
    process has been on the CPU a while (no SIGINT reaches a process that is still importing)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if url.startswith("sqlite"):
            if cpu_seconds(process.pid) > 1.5:
                return
        elif running_sleeps(url):
            return
        time.sleep(0.1)
    raise AssertionError("the statement did not start within 60 s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
