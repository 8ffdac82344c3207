"""papers-etl export: CSV and JSON lines for tables and views, streamed, only for known names."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
import threading
import tracemalloc

import analyst_pages as ap
import psycopg
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT, _postgres_url, scalar

from etl import db, export, output
from etl.cli import EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_USAGE, main
from etl.schema import papers
from etl.views import RELATIONS


@pytest.fixture
def loaded(request, tmp_path, page_dir):
    yield from ap.loaded_engines(request, tmp_path, page_dir)


def test_csv_export_of_a_view_has_a_header_and_typed_values(runner, db_url, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])

    result = runner.invoke(main, ["export", "--db", db_url, "listing_days"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "listed_on,papers_listed,new_papers\n2026-03-02,3,3\n2026-03-03,4,3\n2026-03-04,2,1\n"


def test_jsonl_export_to_a_file(runner, db_url, page_dir, tmp_path):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])
    target = tmp_path / "repos.jsonl"

    result = runner.invoke(main, ["export", "--db", db_url, "github_repositories", "--format", "jsonl", "-o", target])

    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote 4 rows of github_repositories to {target}"
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines[1] == {"repo": "sound-ai/no-codebook", "url": "https://github.com/sound-ai/no-codebook", "papers": 1,
                        "first_published_on": None, "last_listed_on": "2026-03-04"}  # fmt: skip
    assert [line["repo"] for line in lines] == [row[0] for row in ap.GITHUB_REPOSITORIES]


def test_every_view_exports_the_same_bytes_from_both_engines(loaded):
    for name in ("paper_summary", "monthly_publications", "github_repositories", "listing_days",
                 "author_count_distribution", "paper_links"):  # fmt: skip
        for fmt in output.FORMATS:
            outputs = {}
            for engine_name, engine in loaded.items():
                out = io.StringIO()
                export.export(engine, name, fmt, out)
                outputs[engine_name] = out.getvalue()
            assert outputs["sqlite"] == outputs["postgres"], (name, fmt)
            assert outputs["sqlite"].count("\n") > 1, (name, fmt)


def test_csv_round_trips_text_with_commas_quotes_and_newlines(engine):
    title = 'Commas, "quotes"\nand a newline'
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(papers.insert(), {"title": title, "title_key": "k", "abstract": "é", "author_count": 2,
                                       "created_at": now, "updated_at": now})  # fmt: skip
    out = io.StringIO()

    assert export.export(engine, "papers", "csv", out) == 1

    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["title"], row["abstract"], row["author_count"], row["published_on"]) == (title, "é", "2", "")


def test_unknown_names_are_refused_in_one_line(runner, db_url):
    for name in ("sqlite_master", "papers_fts", "alembic_version", "papers; DROP TABLE papers"):
        result = runner.invoke(main, ["export", "--db", db_url, name])
        assert result.exit_code == EXIT_USAGE, name
        assert result.stderr.count("\n") == 1 and "is not a papers-etl table or view" in result.stderr


def test_export_of_a_database_without_tables_says_so_and_creates_nothing(runner, db_url, tmp_path):
    target = tmp_path / "out.csv"
    if db_url.startswith("sqlite"):
        (tmp_path / "papers.db").touch()  # an empty database (a missing file is refused: tests/test_readonly.py)
    result = runner.invoke(main, ["export", "--db", db_url, "papers", "-o", target])

    assert result.exit_code == EXIT_FAILURE and "no tables yet" in result.stderr
    assert not target.exists()


def test_every_table_and_view_is_exportable(engine):
    for name in RELATIONS:
        out = io.StringIO()
        stored = scalar(engine, f"SELECT count(*) FROM {name}")  # capture_formats comes filled
        assert export.export(engine, name, "csv", out) == stored
        header, *lines = out.getvalue().splitlines()
        assert header == ",".join(c.name for c in RELATIONS[name].columns)
        assert len(lines) == stored


# --------------------------------------------------------------------------- streaming


def _many_papers(engine, count: int, abstract_size: int) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [{"title": f"Paper {i}", "title_key": f"paper{i}", "abstract": "x" * abstract_size,
             "created_at": now, "updated_at": now} for i in range(count)]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(papers.insert(), rows)


class CountingSink(io.TextIOBase):
    """Discards what is written, counting lines."""

    lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


def test_export_never_holds_the_whole_result_in_memory(engine):
    count, abstract_size = 6000, 4000  # about 24 MB of abstracts
    _many_papers(engine, count, abstract_size)
    sink = CountingSink()

    tracemalloc.start()
    try:
        written = export.export(engine, "papers", "nl", sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written == count and sink.lines == count
    assert peak < count * abstract_size / 4, f"peak {peak} bytes: rows were not streamed"


def test_postgresql_export_reads_through_a_server_side_cursor(request):
    engine = db.create_engine(_postgres_url(request))
    db.upgrade(engine)
    cursors = []

    def remember(conn, cursor, *args):
        cursors.append(cursor)

    sa.event.listen(engine, "before_cursor_execute", remember)
    export.export(engine, "paper_summary", "csv", io.StringIO())
    engine.dispose()

    assert any(isinstance(cursor, psycopg.ServerCursor) for cursor in cursors)


# --------------------------------------------------------------------------- --output: what is there stays what it is


@pytest.fixture
def loaded_url(runner, db_url, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])
    return db_url


EXPECTED_DAYS = "listed_on,papers_listed,new_papers\n2026-03-02,3,3\n2026-03-03,4,3\n2026-03-04,2,1\n"


def test_export_keeps_the_mode_of_the_file_it_replaces(runner, loaded_url, tmp_path):
    target = tmp_path / "days.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)

    result = runner.invoke(main, ["export", "--db", loaded_url, "listing_days", "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == EXPECTED_DAYS
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_through_a_symlink_replaces_the_file_and_keeps_the_link(runner, loaded_url, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)

    result = runner.invoke(main, ["export", "--db", loaded_url, "listing_days", "-o", str(link)])

    assert result.exit_code == 0, result.output
    assert link.is_symlink() and real.read_text(encoding="utf-8") == EXPECTED_DAYS


def test_export_to_a_fifo_writes_into_it(runner, loaded_url, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()

    result = runner.invoke(main, ["export", "--db", loaded_url, "listing_days", "-o", str(fifo)])
    reader.join(60)

    assert result.exit_code == 0, result.output
    assert received == [EXPECTED_DAYS]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_export_to_a_device_writes_into_it_and_leaves_it_a_device(runner, loaded_url, tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of the test's own
    except PermissionError:
        pytest.skip("this machine does not let the tests make a device node (not root, or a container)")

    result = runner.invoke(main, ["export", "--db", loaded_url, "listing_days", "-o", str(device)])

    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(device.stat().st_mode)


def test_export_into_a_missing_folder_is_one_line(runner, loaded_url, tmp_path):
    target = tmp_path / "no" / "such" / "days.csv"

    result = runner.invoke(main, ["export", "--db", loaded_url, "listing_days", "-o", str(target)])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr == f"Error: {target}: folder {target.parent} does not exist; create it or fix the path\n"


@pytest.mark.parametrize("command", [["export", "papers"], ["query", "--csv", "SELECT * FROM papers"]], ids=" ".join)
def test_a_reader_that_goes_away_stops_the_output_quietly(loaded_url, command):
    process = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", *command, "--db", loaded_url],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # as `| head -0` does: every write now finds the pipe closed

    _, err = process.communicate(timeout=60)

    assert (process.returncode, err) == (EXIT_BROKEN_PIPE, b"")
