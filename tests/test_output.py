"""One output convention (etl/output.py): every command that prints rows takes --table, --csv, --tsv, --json
and --nl, writes timestamps as ISO 8601 with the UTC offset on both engines, and escapes control characters in
tables only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import analyst_pages as ap
import pytest
import sqlalchemy as sa

from etl import db
from etl.cli import EXIT_FAILURE, EXIT_USAGE, main
from etl.terminal import printable

COMMANDS = {
    "query": ["query", "SELECT run_id, started_at, status FROM etl_runs ORDER BY run_id"],
    "search": ["search", "diffusion distillation"],
    "runs": ["runs"],
    "runs show": ["runs", "show", "1"],
    "export": ["export", "listing_days"],
}
ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$"


@pytest.fixture
def loaded_url(runner, db_url, page_dir) -> str:
    result = runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])
    assert result.exit_code == 0, result.output
    return db_url


@pytest.mark.parametrize("command", COMMANDS)
def test_every_row_command_writes_every_format(runner, loaded_url, command):
    args = [*COMMANDS[command], "--db", loaded_url]

    as_json = runner.invoke(main, [*args, "--json"])
    as_nl = runner.invoke(main, [*args, "--nl"])
    as_csv = runner.invoke(main, [*args, "--csv"])
    as_tsv = runner.invoke(main, [*args, "--tsv"])
    as_table = runner.invoke(main, [*args, "--table"], env={"COLUMNS": "200"})

    for result in (as_json, as_nl, as_csv, as_tsv, as_table):
        assert result.exit_code == 0, result.output
    records = json.loads(as_json.stdout)
    if command == "runs show":  # one object: the run, and its rejects (none here)
        assert records["run_id"] == 1 and records["rejects"] == []
        assert as_nl.stdout == "" and as_csv.stdout.startswith("reject_id,run_id,level")
        return
    lines = [json.loads(line) for line in as_nl.stdout.splitlines()]
    assert records == lines and len(records) >= 1
    header, *rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert header == list(records[0]) and len(rows) == len(records)
    assert list(csv.reader(io.StringIO(as_tsv.stdout), delimiter="\t")) == [header, *rows]
    assert "│" in as_table.stdout and header[0] in as_table.stdout


def test_off_a_terminal_the_default_is_tsv_and_one_format_only(runner, loaded_url):
    default = runner.invoke(main, ["runs", "--db", loaded_url])
    both = runner.invoke(main, ["runs", "--db", loaded_url, "--csv", "--json"])

    assert default.stdout.splitlines()[0].split("\t")[:3] == ["run_id", "started_at", "finished_at"]
    assert both.exit_code == EXIT_USAGE and "not --csv and --json" in both.output


def test_timestamps_are_iso_8601_in_utc_on_both_engines_in_every_format(runner, loaded_url):
    engine = db.create_engine(loaded_url)
    with engine.connect() as conn:
        started = conn.execute(sa.text("SELECT started_at FROM etl_runs")).scalar_one()
    engine.dispose()

    from_json = json.loads(runner.invoke(main, ["runs", "--json", "--db", loaded_url]).stdout)[0]
    from_csv = next(csv.DictReader(io.StringIO(runner.invoke(main, ["runs", "--csv", "--db", loaded_url]).stdout)))
    from_query = json.loads(runner.invoke(main, ["query", "--json", "--db", loaded_url,
                                                 "SELECT started_at FROM etl_runs"]).stdout)[0]  # fmt: skip
    table = runner.invoke(main, ["runs", "--table", "--db", loaded_url], env={"COLUMNS": "250"}).stdout

    assert from_json["started_at"] == from_csv["started_at"] == from_query["started_at"]
    assert dt.datetime.fromisoformat(from_json["started_at"]).utcoffset() == dt.timedelta(0)
    assert from_json["started_at"].endswith("+00:00") and "T" in from_json["started_at"]
    if isinstance(started, dt.datetime):  # PostgreSQL: aware, in the session's time zone
        assert dt.datetime.fromisoformat(from_json["started_at"]) == started
    assert dt.datetime.fromisoformat(from_json["started_at"]).replace(microsecond=0).isoformat() in table


def test_query_takes_named_parameters_a_file_or_standard_input(runner, loaded_url, tmp_path):
    sql = "SELECT listed_on, new_papers FROM listing_days WHERE listed_on BETWEEN :from AND :to ORDER BY listed_on"
    (tmp_path / "q.sql").write_text(sql, encoding="utf-8")
    params = ["-p", "from", "2026-03-03", "-p", "to", "2026-03-31"]

    inline = runner.invoke(main, ["query", "--csv", "--db", loaded_url, *params, sql])
    from_file = runner.invoke(main, ["query", "--csv", "--db", loaded_url, *params, "-f", str(tmp_path / "q.sql")])
    from_stdin = runner.invoke(main, ["query", "--csv", "--db", loaded_url, *params, "-"], input=sql)

    expected = "listed_on,new_papers\n2026-03-03,3\n2026-03-04,1\n"
    assert inline.stdout == from_file.stdout == from_stdin.stdout == expected


def test_a_missing_or_unknown_parameter_is_one_line(runner, loaded_url):
    sql = "SELECT title FROM papers WHERE title = :title"

    missing = runner.invoke(main, ["query", "--db", loaded_url, sql])
    unknown = runner.invoke(main, ["query", "--db", loaded_url, "-p", "title", "x", "-p", "other", "y", sql])
    nothing = runner.invoke(main, ["query", "--db", loaded_url])

    assert missing.exit_code == EXIT_FAILURE and missing.stderr.count("\n") == 1
    assert "needs a value for :title: give -p title VALUE" in missing.stderr
    assert unknown.exit_code == EXIT_FAILURE and "has no parameter :other" in unknown.stderr
    assert nothing.exit_code == EXIT_USAGE


def test_a_parameter_value_is_bound_never_pasted_into_the_sql(runner, loaded_url):
    hostile = "x'; DROP TABLE papers; --"
    result = runner.invoke(main, ["query", "--csv", "--db", loaded_url, "-p", "t", hostile, "SELECT :t AS t"])

    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.stdout))) == [["t"], [hostile]]


def test_control_characters_are_escaped_in_tables_and_kept_in_data_formats(runner, loaded_url):
    sql = "SELECT 'evil' || char(27) || '[2J title' AS title"
    if not loaded_url.startswith("sqlite"):
        sql = "SELECT 'evil' || chr(27) || '[2J title' AS title"

    table = runner.invoke(main, ["query", "--table", "--db", loaded_url, sql])
    as_json = runner.invoke(main, ["query", "--json", "--db", loaded_url, sql])

    assert "\x1b" not in table.stdout and "evil\\x1b[2J title" in table.stdout
    assert json.loads(as_json.stdout) == [{"title": "evil\x1b[2J title"}]


def test_the_table_fits_the_terminal_width(runner, loaded_url):
    result = runner.invoke(main, ["runs", "--table", "--db", loaded_url], env={"COLUMNS": "80"})

    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_export_keeps_its_format_option_and_takes_the_flags(runner, loaded_url):
    legacy = runner.invoke(main, ["export", "listing_days", "--format", "jsonl", "--db", loaded_url])
    flag = runner.invoke(main, ["export", "listing_days", "--nl", "--db", loaded_url])

    assert legacy.stdout == flag.stdout and len(flag.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    ("text", "shown"),
    [("plain", "plain"), ("a\tb\nc", "a\tb\nc"), ("\x1b[31m", "\\x1b[31m"), ("\x07\x7f\x9b", "\\x07\\x7f\\x9b")],
)
def test_printable_escapes_control_characters_but_tab_and_newline(text, shown):
    assert printable(text) == shown
