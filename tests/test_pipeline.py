"""Scheduled loads: re-runs, --force, crashes (real SIGKILL), concurrent runs, --dry-run, on both engines.

Processes are started with tests/killable_load.py, which pauses at a named
point; every wait on them is bounded (WAIT_S), so a broken test fails instead
of hanging the suite.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT, TESTS, rows, scalar
from pages import (
    GARDENS,
    LANTERN,
    ORBITS,
    WAVELETS,
    compact_page,
    daily_meta_page,
    daily_page,
    markdown_page,
    write_big_daily_page,
)

from etl import db, load, locks
from etl.cli import EXIT_LOCKED, EXIT_OK, EXIT_REJECTS, main
from etl.errors import LockNotAcquired
from etl.extract import display_path
from etl.pipeline import UNCHANGED_MESSAGE, YOUNG_COLLECTION_EVERY, Progress, check_load, run_load

KILLABLE = Path(__file__).parent / "killable_load.py"
WAIT_S = 60  # upper bound on any wait for a subprocess; never reached when things work
BATCH = 200  # load.BATCH_RECORDS in these tests (and their subprocesses): kill points fall between batches


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(load.files, "BATCH_RECORDS", BATCH)


FIELD_REJECTS = "rejects (record, field)"


# --------------------------------------------------------------------------- pages and snapshots


def synthetic_papers(count: int, start: int = 0) -> list[tuple[str, str, str, str]]:
    """daily_meta records; every 50th has an unreadable author count, every 70th an impossible date."""
    papers = []
    for i in range(start, start + count):
        authors = "  • many authors" if i % 50 == 7 else f"  • {i % 9 + 1} authors"
        published = "Feb 30, 2024" if i % 70 == 3 else f"Mar {i % 28 + 1}, 2024"
        abstract = f"Study {i} measures effect {i * 7}; code at https://github.com/lab{i % 13}/study-{i}."
        papers.append((f"Synthetic Study {i}: Scaling Effect {i * 7}", abstract, authors, published))
    return papers


def field_rejects(count: int) -> int:
    """Field rejects in synthetic_papers(count): unreadable author counts plus impossible dates."""
    return sum(i % 50 == 7 for i in range(count)) + sum(i % 70 == 3 for i in range(count))


@pytest.fixture
def captures(page_dir):
    """Three files: a page of more than two load batches, a small page repeating two of its papers, a refused file."""
    big = synthetic_papers(BATCH * 2 + 200)
    return page_dir({
        "2026-03-01-daily.txt": daily_meta_page("Mar 1", big),
        "2026-03-02-search.txt": compact_page([WAVELETS, big[3][:2], GARDENS, big[BATCH + 1][:2]]),
        "2026-03-03-notes.txt": "shopping list\nmilk\n",
    })  # fmt: skip


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every table by natural keys (no surrogate ids, run ids or timestamps), so two databases compare."""
    queries = {
        "papers": "SELECT title_key, title, abstract, published_on, author_count FROM papers",
        "paper_links": "SELECT p.title_key, l.url, l.kind, l.repo FROM paper_links l JOIN papers p USING (paper_id)",
        "source_files": "SELECT sha256, path, size_bytes, layout, listed_on, listed_on_source, record_count"
        " FROM source_files",
        "listings": "SELECT s.sha256, l.position, p.title_key, l.line_no, l.raw_title, l.raw_abstract, l.raw_meta"
        " FROM listings l JOIN source_files s USING (source_file_id) JOIN papers p USING (paper_id)",
        # Record and field rejects are written with their file, exactly once; a refused file is re-refused
        # (and recorded) by every run that sees it, so those compare as a set.
        FIELD_REJECTS: "SELECT path, line_no, level, reason, excerpt FROM rejects WHERE level <> 'file'",
        "rejects (file)": "SELECT DISTINCT path, line_no, level, reason FROM rejects WHERE level = 'file'",
    }
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(sa.text(sql))) for name, sql in queries.items()
        }


def run_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        query = "SELECT run_id, status, message, files_loaded, files_skipped FROM etl_runs ORDER BY run_id"
        return [tuple(row) for row in conn.execute(sa.text(query))]


@pytest.fixture
def reference_url(db_url, tmp_path):
    """A second, empty database on the same engine, for an uninterrupted reference run."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'reference.db'}"
        return
    url = sa.make_url(db_url)
    name = f"{url.database}_ref"
    admin = dict(host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reference(url: str, folder: Path, engine_of) -> dict[str, list[tuple]]:
    engine = engine_of(url)
    run_load(engine, [folder])
    return snapshot(engine)


# --------------------------------------------------------------------------- processes


def start_load(args: list[str], pause_at: str | None = None, count: int = 1) -> subprocess.Popen:
    command = (
        [sys.executable, str(KILLABLE), pause_at, str(count), "--"] if pause_at else [sys.executable, "-m", "etl.cli"]
    )
    return subprocess.Popen(
        [*command, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "KILLABLE_BATCH_RECORDS": str(BATCH)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(stream, expected: str, process: subprocess.Popen) -> None:
    """Read ``stream`` until a line contains ``expected``; fail (never hang) after WAIT_S seconds."""
    seen = []
    while True:
        ready, _, _ = select.select([stream], [], [], WAIT_S)
        assert ready, f"no {expected!r} within {WAIT_S}s; got {seen}"
        line = stream.readline()
        assert line, (
            f"process ended (status {process.wait(WAIT_S)}) before {expected!r}: {seen} {process.stderr.read()}"
        )
        seen.append(line)
        if expected in line:
            return


def paused_load(args: list[str], point: str, count: int = 1) -> subprocess.Popen:
    process = start_load(args, point, count)
    wait_for_line(process.stdout, "PAUSED", process)
    return process


def child_pids(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def ended_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):  # exited, not yet reaped by its new parent
            return True
        time.sleep(0.05)
    return False


def sigkill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(WAIT_S) == -signal.SIGKILL


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out, err


# --------------------------------------------------------------------------- crash safety


@pytest.mark.parametrize(
    ("point", "count"),
    [
        ("run-started", 1),  # lock held, run row written, nothing loaded
        ("mid-file", 1),  # first file's transaction open, a batch written, not committed
        ("after-file", 1),  # first file committed, second not started
        ("before-finish", 1),  # every file committed, run row still 'running'
    ],
)
def test_a_load_killed_at_any_point_then_rerun_equals_an_uninterrupted_load(
    db_url, reference_url, captures, engine_of, processes, runner, point, count
):
    expected = reference(reference_url, captures, engine_of)
    processes.append(paused_load(["load", "--db", db_url, str(captures)], point, count))

    sigkill(processes[-1])
    rerun = runner.invoke(main, ["load", "--db", db_url, str(captures)])

    assert rerun.exit_code == EXIT_REJECTS, rerun.output  # the notes file is refused, some fields rejected
    engine = engine_of(db_url)
    assert snapshot(engine) == expected
    killed, last = run_rows(engine)
    assert killed[1:3] == ("failed", load.INTERRUPTED_MESSAGE)
    assert last[1] == "partial"
    shown = runner.invoke(main, ["runs", "show", str(killed[0]), "--json", "--db", db_url])
    assert (json.loads(shown.output)["status"], json.loads(shown.output)["message"]) == (
        "failed", load.INTERRUPTED_MESSAGE)  # fmt: skip


def test_a_load_killed_mid_file_leaves_no_row_of_that_file(db_url, captures, engine_of, processes):
    processes.append(paused_load(["load", "--parse-process", "--db", db_url, str(captures)], "mid-file", 1))
    (parser_pid,) = child_pids(processes[-1].pid)  # the parsing process, started with the first file
    assert b"etl.parse_worker" in Path(f"/proc/{parser_pid}/cmdline").read_bytes()

    sigkill(processes[-1])

    assert ended_within(parser_pid, WAIT_S)  # its pipes closed with the load: it exits

    engine = engine_of(db_url)
    with engine.connect() as conn:
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("papers", "listings")]
        sources = conn.execute(sa.text("SELECT count(*) FROM source_files")).scalar_one()
    assert (counts, sources) == ([0, 0], 0)
    assert run_rows(engine)[0][1] == "running"  # until the next run, which marks it failed


def test_a_forced_reload_killed_mid_replace_keeps_the_earlier_load(
    db_url, reference_url, captures, engine_of, processes, runner
):
    expected = reference(reference_url, captures, engine_of)
    runner.invoke(main, ["load", "--db", db_url, str(captures)])
    # As if loaded before schema revision 0004 (no parse digest): --force must then replace every file.
    with engine_of(db_url).begin() as conn:
        conn.execute(sa.text("UPDATE source_files SET parse_digest = NULL"))
    processes.append(paused_load(["load", "--force", "--db", db_url, str(captures)], "mid-replace"))

    sigkill(processes[-1])

    assert snapshot(engine_of(db_url)) == expected  # the delete was rolled back with the rest
    again = runner.invoke(main, ["load", "--force", "--db", db_url, str(captures)])
    assert again.exit_code == EXIT_REJECTS, again.output
    after = snapshot(engine_of(db_url))
    # The forced reload records its own field rejects (each run's history); everything else is as before.
    assert after.pop(FIELD_REJECTS) == sorted(expected.pop(FIELD_REJECTS) * 2)
    assert after == expected


# --------------------------------------------------------------------------- concurrent runs


def test_a_second_load_exits_4_while_another_holds_the_database(db_url, captures, engine_of, processes, runner):
    processes.append(paused_load(["load", "--db", db_url, str(captures)], "run-started"))

    second = runner.invoke(main, ["load", "--db", db_url, "--json", str(captures)])

    assert second.exit_code == EXIT_LOCKED
    assert "another papers-etl load is running on this database (gave up at once)" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert json.loads(second.stdout)["status"] == "locked"
    assert [row[1] for row in run_rows(engine_of(db_url))] == ["running"]  # the second wrote nothing

    processes[-1].stdin.write("go\n")
    processes[-1].stdin.flush()
    status, _, err = finish(processes[-1])
    assert status == EXIT_REJECTS, err
    assert [row[1] for row in run_rows(engine_of(db_url))] == ["partial"]


@pytest.mark.parametrize("spelling", ["symlink", "hard link", "relative path"])
def test_every_spelling_of_one_sqlite_file_meets_the_same_lock(
    spelling, tmp_path, captures, engine_of, processes, runner, monkeypatch
):
    database = tmp_path / "papers.db"
    url = f"sqlite:///{database}"
    assert runner.invoke(main, ["load", "--db", url, str(captures / "2026-03-03-notes.txt")]).exit_code == EXIT_REJECTS
    other = tmp_path / "other" / "papers.db"
    other.parent.mkdir()
    if spelling == "symlink":
        other.symlink_to(database)
    elif spelling == "hard link":
        os.link(database, other)
    else:
        monkeypatch.chdir(other.parent)
        other = Path("..") / "papers.db"
    processes.append(paused_load(["load", "--db", url, str(captures)], "run-started"))

    second = runner.invoke(main, ["load", "--db", f"sqlite:///{other}", str(captures)])

    assert second.exit_code == EXIT_LOCKED, second.output
    assert "another papers-etl load is running on this database" in second.stderr
    assert [row[1] for row in run_rows(engine_of(url))] == ["partial", "running"]  # the second wrote nothing
    processes[-1].stdin.write("go\n")
    processes[-1].stdin.flush()
    status, _, err = finish(processes[-1])
    assert status == EXIT_REJECTS, err
    assert [row[1] for row in run_rows(engine_of(url))] == ["partial", "partial"]
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_load_waits_for_a_busy_sqlite_file_as_long_as_wait_says(tmp_path, page_dir, runner):
    url = f"sqlite:///{tmp_path / 'papers.db'}"
    folder = page_dir({"a.txt": compact_page([WAVELETS])})
    assert runner.invoke(main, ["load", "--db", url, str(folder)]).exit_code == EXIT_OK
    holder = sqlite3.connect(tmp_path / "papers.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing to the database
    try:
        engine = db.create_engine(url, busy_seconds=0.2)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 200
        engine.dispose()

        result = runner.invoke(main, ["load", "--db", url, "--wait", "0.2", "--force", str(folder)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == EXIT_LOCKED, result.output
    assert "another program holds its write lock" in result.stderr and "(waited 0.2s)" in result.stderr
    with sqlite3.connect(tmp_path / "papers.db") as conn:
        assert conn.execute("SELECT status FROM etl_runs").fetchall() == [("succeeded",)]  # nothing written


def test_a_waiting_load_starts_when_the_first_finishes(db_url, reference_url, captures, engine_of, processes):
    expected = reference(reference_url, captures, engine_of)
    first = paused_load(["load", "--db", db_url, str(captures)], "run-started")
    second = start_load(["-v", "load", "--wait", str(WAIT_S), "--db", db_url, str(captures)])
    processes.extend([first, second])

    wait_for_line(second.stderr, "another load holds the lock; waiting", second)
    first.stdin.write("go\n")
    first.stdin.flush()

    assert finish(first)[0] == EXIT_REJECTS
    status, out, err = finish(second)
    assert status == EXIT_REJECTS, err
    assert "(0 loaded, 2 already loaded, 1 refused)" in out
    assert snapshot(engine_of(db_url)) == expected


def test_a_load_that_waits_too_little_exits_4(db_url, captures, processes, runner):
    processes.append(paused_load(["load", "--db", db_url, str(captures)], "run-started"))

    result = runner.invoke(main, ["load", "--wait", "0.5", "--db", db_url, str(captures)])

    assert result.exit_code == EXIT_LOCKED
    assert "gave up after waiting 0.5s" in result.stderr


def test_two_loads_started_at_once_load_each_file_once(db_url, reference_url, captures, engine_of, processes):
    expected = reference(reference_url, captures, engine_of)
    args = ["load", "--wait", str(WAIT_S), "--db", db_url, str(captures)]
    processes.extend([start_load(args), start_load(args)])

    results = [finish(process) for process in processes]

    assert [status for status, _, _ in results] == [EXIT_REJECTS, EXIT_REJECTS], results
    assert snapshot(engine_of(db_url)) == expected
    assert sorted(row[3:] for row in run_rows(engine_of(db_url))) == [(0, 2), (2, 0)]


def test_the_lock_is_released_when_its_holder_is_killed(db_url, captures, engine_of, processes, runner):
    processes.append(paused_load(["load", "--db", db_url, str(captures)], "run-started"))
    sigkill(processes[-1])

    with locks.load_lock(engine_of(db_url), wait_seconds=0):
        pass  # acquired at once: nothing stale is left behind
    assert runner.invoke(main, ["load", "--db", db_url, str(captures)]).exit_code == EXIT_REJECTS


def test_load_lock_in_process(engine):
    with (
        locks.load_lock(engine),
        pytest.raises(LockNotAcquired, match="--wait SECONDS"),
        locks.load_lock(engine, wait_seconds=0.3),
    ):
        pass
    with locks.load_lock(engine):  # released on exit
        pass


# --------------------------------------------------------------------------- incremental and --force


def test_a_growing_folder_loads_only_the_new_files(engine, page_dir, monkeypatch):
    folder = page_dir({"2026-03-01.txt": compact_page([WAVELETS])})
    run_load(engine, [folder])
    page_dir({"2026-03-02.txt": compact_page([GARDENS, WAVELETS])})
    import etl.parsing

    parsed = []
    real_page_stream = etl.parsing.PageStream
    monkeypatch.setattr(etl.parsing, "PageStream", lambda lines: parsed.append(1) or real_page_stream(lines))

    summary = run_load(engine, [folder], parse_process=False)  # parsed here, where the count can see it

    assert [(f.path.rsplit("/", 1)[-1], f.status) for f in summary.files] == [
        ("2026-03-01.txt", "skipped"),
        ("2026-03-02.txt", "loaded"),
    ]
    assert len(parsed) == 1  # the skipped file was hashed, never parsed
    assert summary.counts["papers_inserted"] == 1


def forced_pages(page_dir):
    return page_dir({
        "a.txt": daily_meta_page(
        "Jan 8", [(*ORBITS, "  • 3 authors", "Jun 7, 2023"), (*LANTERN, "  • many authors", "Feb 30, 2023")]
    ),
        "b.txt": compact_page([WAVELETS, ORBITS]),
    })  # fmt: skip


def paper_ids(engine) -> list[tuple]:
    return rows(engine, "SELECT paper_id, title_key FROM papers ORDER BY paper_id")


@pytest.mark.parametrize("parse_process", [False, True], ids=["parse-here", "parse-process"])
def test_force_leaves_a_file_that_parses_as_before_untouched(engine, page_dir, parse_process):
    folder = forced_pages(page_dir)
    first = run_load(engine, [folder])
    before, ids_before = snapshot(engine), paper_ids(engine)

    forced = run_load(engine, [folder], force=True, parse_process=parse_process)

    assert [(f.status, f.message) for f in forced.files] == [("loaded", UNCHANGED_MESSAGE)] * 2
    assert forced.counts["papers_inserted"] == 0 and forced.counts["files_skipped"] == 0
    assert paper_ids(engine) == ids_before  # nothing deleted and created again: the ids stay
    after = snapshot(engine)
    # The forced run records the problems the parse found again, as its own (each run's history).
    parse_problems = {(f.path, f.records_rejected, f.fields_rejected) for f in forced.files}
    assert {(f.path, f.records_rejected, f.fields_rejected) for f in first.files} >= parse_problems
    assert len(after.pop(FIELD_REJECTS)) == len(before.pop(FIELD_REJECTS)) + forced.rejects
    assert forced.rejects > 0
    assert after == before


def test_force_compares_what_a_file_parses_to_not_which_objects_hold_it(engine, page_dir, monkeypatch):
    folder = forced_pages(page_dir)
    run_load(engine, [folder])
    import etl.transform

    real_clean_text = etl.transform.clean_text
    # Equal text in new string objects: the clean title no longer is the raw title's object.
    monkeypatch.setattr(
        etl.transform, "clean_text", lambda text: (lambda clean: clean[:1] + clean[1:])(real_clean_text(text))
    )

    forced = run_load(engine, [folder], force=True, parse_process=False)

    assert [(f.status, f.message) for f in forced.files] == [("loaded", UNCHANGED_MESSAGE)] * 2


def test_force_reloads_a_file_that_parses_differently_without_duplicates(engine, page_dir):
    folder = forced_pages(page_dir)
    run_load(engine, [folder])
    before = snapshot(engine)
    with engine.begin() as conn:  # as if loaded before schema revision 0004, or by other parsing rules
        conn.execute(sa.text("UPDATE source_files SET parse_digest = 'digest of other rules'"))

    forced = run_load(engine, [folder], force=True)

    assert forced.counts["files_loaded"] == 2 and forced.counts["files_skipped"] == 0
    assert all(f.message is None for f in forced.files)
    # The papers that only these files listed (Lantern, Wavelets) are found again: none is new.
    assert forced.counts["papers_inserted"] == 0
    after = snapshot(engine)
    # The reload recorded its own field rejects (the run's history), the earlier ones stay.
    assert after.pop(FIELD_REJECTS) == sorted(before.pop(FIELD_REJECTS) * 2)
    assert after == before
    assert scalar(engine, "SELECT count(*) FROM source_files WHERE parse_digest = 'digest of other rules'") == 0


def test_force_keeps_the_id_and_created_at_of_every_paper_it_reloads(engine, page_dir):
    folder = forced_pages(page_dir)
    run_load(engine, [folder], listed_on=dt.date(2026, 1, 8))
    before = rows(engine, "SELECT paper_id, title_key, created_at FROM papers ORDER BY paper_id")

    forced = run_load(engine, [folder], listed_on=dt.date(2026, 1, 9), force=True)

    assert [f.message for f in forced.files] == [None, None]  # both files deleted and loaded again
    assert forced.counts["papers_inserted"] == 0
    assert rows(engine, "SELECT paper_id, title_key, created_at FROM papers ORDER BY paper_id") == before
    assert scalar(engine, "SELECT count(*) FROM listings") == 4


def test_force_deletes_a_paper_the_file_no_longer_lists(engine, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS])})
    run_load(engine, [folder])
    (folder / "a.txt").write_text(compact_page([WAVELETS]), encoding="utf-8")  # same file name, other content
    with engine.begin() as conn:  # the earlier load's row now names a file of the new content's sha256
        conn.execute(sa.text("UPDATE source_files SET sha256 = :sha, parse_digest = NULL"),
                     {"sha": hashlib.sha256((folder / "a.txt").read_bytes()).hexdigest()})  # fmt: skip

    run_load(engine, [folder], force=True)

    assert [title for (title,) in rows(engine, "SELECT title FROM papers")] == [WAVELETS[0]]
    assert scalar(engine, "SELECT count(*) FROM paper_links WHERE paper_id NOT IN (SELECT paper_id FROM papers)") == 0


def test_force_with_another_listing_date_reloads(engine, page_dir):
    folder = forced_pages(page_dir)
    run_load(engine, [folder], listed_on=dt.date(2026, 1, 8))

    forced = run_load(engine, [folder], listed_on=dt.date(2026, 1, 9), force=True)

    assert [f.message for f in forced.files] == [None, None]  # reloaded, not "unchanged"
    assert rows(engine, "SELECT DISTINCT listed_on FROM source_files") == [(dt.date(2026, 1, 9),)]
    assert scalar(engine, "SELECT count(*) FROM listings") == 4


def test_force_through_the_cli(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS])})
    runner.invoke(main, ["load", "--db", db_url, str(folder)])

    result = runner.invoke(main, ["load", "--force", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_OK, result.output
    assert "(1 loaded, of which 1 unchanged, 0 already loaded, 0 refused); 2 records, 0 new papers" in result.output
    engine = db.create_engine(db_url)
    with engine.connect() as conn:
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("papers", "listings")]
    engine.dispose()
    assert counts == [2, 2]


# --------------------------------------------------------------------------- atomic files


def test_a_bad_byte_after_several_batches_loads_nothing_of_that_file(engine, page_dir):
    text = daily_meta_page("Mar 1", synthetic_papers(BATCH * 2 + 10))
    cut = text.rindex("Synthetic Study")
    data = text[:cut].encode() + b"Caf\xe9 " + text[cut:].encode()
    folder = page_dir({"a-late-bad-byte.txt": data, "b.txt": compact_page([WAVELETS])})

    summary = run_load(engine, [folder])

    assert [f.status for f in summary.files] == ["refused", "loaded"]
    bad_line, bad_offset = text[:cut].count("\n") + 1, len(text[:cut].encode()) + len("Caf")
    assert data[bad_offset] == 0xE9
    assert f"a-late-bad-byte.txt:{bad_line}: not UTF-8 (byte 0xe9 at offset {bad_offset})" in summary.files[0].message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM papers")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT path FROM source_files")).scalars().all() == [str(folder / "b.txt")]


def test_a_big_file_goes_through_the_pipeline_with_flat_memory(tmp_path, engine_of):
    # The dry run is the whole pipeline (hash pass, streamed decode, parse, transform, counts) short of
    # load.load_file, and touches no database here (the SQLite file does not exist), so one engine is
    # enough. That the load consumes the stream in bounded batches is measured by tests/bench_stream.py.
    engine = engine_of(f"sqlite:///{tmp_path / 'absent.db'}")
    folder = tmp_path / "big"
    folder.mkdir()
    count = write_big_daily_page(folder / "2026-03-12-big.txt", 20)
    size = (folder / "2026-03-12-big.txt").stat().st_size

    tracemalloc.start()
    try:
        summary = check_load(engine, [folder])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.counts["records_read"] == count > 5_000
    assert peak < size / 4, f"peak {peak} bytes for a {size} byte file"


# --------------------------------------------------------------------------- dry run


def test_dry_run_writes_nothing_and_creates_no_sqlite_file(runner, tmp_path, captures):
    target = tmp_path / "never.db"

    result = runner.invoke(main, ["load", "--dry-run", "--db", f"sqlite:///{target}", str(captures)])

    assert result.exit_code == EXIT_REJECTS, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        f"dry run, nothing written: 3 files (2 to load, 0 already loaded, 1 refused); {BATCH * 2 + 204} records, "
        f"about {BATCH * 2 + 202} new papers, 2 duplicates, {field_rejects(BATCH * 2 + 200)} rejects"
    )
    assert f"would load {captures / '2026-03-01-daily.txt'}: daily_meta, listed on 2026-03-01 (file_name), " in (
        result.stdout
    )
    assert not target.exists() and list(target.parent.glob(f"{target.name}*")) == []


def test_dry_run_on_a_loaded_database_changes_nothing(runner, db_url, captures, engine_of, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(captures)])
    page_dir({"2026-03-04.txt": compact_page([LANTERN])})
    engine = engine_of(db_url)
    before, runs_before = snapshot(engine), run_rows(engine)

    result = runner.invoke(main, ["load", "--dry-run", "--json", "--db", db_url, str(captures)])

    assert result.exit_code == EXIT_REJECTS, result.output
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["run_id"], report["files_loaded"], report["files_skipped"]) == (True, None, 1, 2)
    assert (snapshot(engine), run_rows(engine)) == (before, runs_before)


def test_dry_run_json_says_what_would_happen_to_each_file_and_matches_the_load(runner, db_url, captures, page_dir):
    dry = json.loads(runner.invoke(main, ["load", "--dry-run", "--json", "--db", db_url, str(captures)]).stdout)
    real = json.loads(runner.invoke(main, ["load", "--json", "--db", db_url, str(captures)]).stdout)
    page_dir({"2026-03-04.txt": compact_page([LANTERN, WAVELETS])})
    dry_again = json.loads(runner.invoke(main, ["load", "--dry-run", "--json", "--db", db_url, str(captures)]).stdout)
    real_again = json.loads(runner.invoke(main, ["load", "--json", "--db", db_url, str(captures)]).stdout)

    assert [(f["status"], f["listed_on"], f["listed_on_source"]) for f in dry["files"]] == [
        ("would_load", "2026-03-01", "file_name"), ("would_load", "2026-03-02", "file_name"), ("refused", None, None)
    ]  # fmt: skip
    assert [f["status"] for f in real["files"]] == ["loaded", "loaded", "refused"]
    assert (dry["papers_inserted"], dry["duplicates"]) == (real["papers_inserted"], real["duplicates"]) == (
        BATCH * 2 + 202, 2)  # fmt: skip
    assert [f["status"] for f in dry_again["files"]] == ["already_loaded", "already_loaded", "refused", "would_load"]
    assert dry_again["papers_inserted"] == real_again["papers_inserted"] == 1  # LANTERN; WAVELETS is stored


def test_dry_run_on_a_new_database_creates_no_schema(runner, db_url, captures, engine_of):
    result = runner.invoke(main, ["load", "--dry-run", "--db", db_url, str(captures)])

    assert result.exit_code == EXIT_REJECTS, result.output
    assert db.current_revision(engine_of(db_url)) is None
    assert sa.inspect(engine_of(db_url)).get_table_names() == []


# --------------------------------------------------------------------------- README: bad input → what happens


def readme_bad_input_rows() -> dict[str, dict[str, str]]:
    """The README's "Bad input → what happens" table: bad input -> level, exit, message."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("### Bad input → what happens", 1)[1].split("\n\n| bad input |", 1)[1]
    rows = {}
    for line in table.split("\n\n", 1)[0].splitlines()[2:]:
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = {"level": cells[2], "exit": cells[3], "message": cells[4]}
    return rows


GOOD = ("good.txt", compact_page([WAVELETS]))
BAD_PAGE = "2026-03-05-bad.txt"


def vanish_before_reading(monkeypatch, path: Path) -> None:
    import etl.pipeline

    real = etl.pipeline.fingerprint_file

    def vanishing(target: Path):
        if target == path:
            target.unlink()  # listed by discover, gone when read
        return real(target)

    monkeypatch.setattr(etl.pipeline, "fingerprint_file", vanishing)


def change_while_loading(monkeypatch, path: Path) -> None:
    import etl.pipeline

    real = etl.pipeline.fingerprint_file

    def changing(target: Path):
        found = real(target)
        if target == path:
            with target.open("a", encoding="utf-8") as out:  # written to between the two passes
                out.write("\n\nA Late Title\n\nAn abstract appended by the capture tool.\n")
        return found

    monkeypatch.setattr(etl.pipeline, "fingerprint_file", changing)


def refuse_to_open(monkeypatch, path: Path) -> None:
    # Tests run as root here, where chmod 000 does not stop reading: the OS error is raised instead.
    real_open = Path.open

    def guarded_open(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)


def unreadable_folder(monkeypatch, path: Path) -> None:
    # As root (where these tests run), chmod 000 does not stop reading: opening the folder fails as it
    # would for an unprivileged user instead. Unprivileged, chmod 000 (tests/test_extract.py has both).
    folder = path.parent
    if os.geteuid() != 0:
        folder.chmod(0)
        return
    real_scandir = os.scandir

    def scandir(target="."):
        if Path(target) == folder:
            raise PermissionError(13, "Permission denied", str(target))
        return real_scandir(target)

    monkeypatch.setattr(os, "scandir", scandir)


def cr_only_page(path: Path) -> None:
    path.write_bytes(daily_meta_page("Jan 8", meta([GARDENS])).replace("\n", "\r").encode())


def symlink_loop(path: Path) -> None:
    path.write_text(compact_page([GARDENS]), encoding="utf-8")
    (path.parent / "again").symlink_to(path.parent, target_is_directory=True)


def files_beside_captures(path: Path) -> None:
    path.write_text(compact_page([GARDENS]), encoding="utf-8")
    (path.parent / "runs.jsonl").write_text('{"run_id": 1}\n', encoding="utf-8")
    (path.parent / "other.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (path.parent / "other.db-wal").write_bytes(bytes(32))


def big_page(path: Path) -> None:
    write_big_daily_page(path, 5)


def long_line_page(path: Path) -> None:
    path.write_text(compact_page([("A Paper With A Long Abstract", "Long " + "é∑ word " * 600_000)]), encoding="utf-8")


API_ENTRY = json.dumps(
    [{"paper": {"id": "2603.00001", "title": GARDENS[0], "summary": GARDENS[1], "authors": [{"name": "Ada"}]}}]
)


def huge_json_entry(path: Path) -> None:
    path.write_text(json.dumps([{"paper": {"id": "2603.00002", "title": "Huge", "summary": "word " * 1_100_000}}]))


def format_page(name: str) -> str:
    return (TESTS / "data" / "formats" / name).read_text(encoding="utf-8")


def meta(papers: list[tuple[str, str]], authors: str = "  • 3 authors", published: str = "Jun 7, 2023") -> list:
    return [(title, abstract, authors, published) for title, abstract in papers]


# Input for each row of the README table: the bad file's bytes or text, or a function that writes it,
# and optionally what happens to it between listing and loading.
BAD_INPUT = {
    "Empty file": {"content": "\ufeff\n\n  \n"},
    "Binary file": {"content": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
    "Not UTF-8": {"content": "new\n\nGet trending papers in your email inbox!\n\nR\u00e9nyi\n".encode("latin-1")},
    "Unknown layout": {"content": "Meeting notes\n\nNothing about papers.\n"},
    "Banners but no paper": {"content": "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n"},
    "JSON that is cut short": {"content": API_ENTRY[:-40], "name": "2026-03-05.json"},
    "Not JSON": {
        "content": "<html><head><title>502 Bad Gateway</title></head><body>Bad gateway</body></html>\n",
        "name": "2026-03-05.json",
    },
    "JSON of another shape": {"content": '{"error": "Invalid date: 2026-02-30"}\n', "name": "2026-03-05.json"},
    "Huge JSON entry": {"write": huge_json_entry, "name": "2026-03-05.json"},
    "Saved page without the papers' data": {
        "content": "<!DOCTYPE html>\n<html><head><title>Daily Papers - Hugging Face</title></head>"
        "<body><main>The papers would be here.</main></body></html>\n",
        "name": "saved.html",
    },
    "Markdown card that is not a paper": {
        "content": markdown_page("Mar 5", [(*GARDENS, "2403.00002", None, 5, "Feb 2, 2024")])
        + "\n### [https://huggingface.co/papers/2403.00009](https://huggingface.co/papers/2403.00009)\n\n"
        "[An abstract long enough to be one, written for this junk card.](https://huggingface.co/papers/2403.00009)\n"
    },
    "Page of junk": {"content": format_page("junk_page.txt")},
    "Mostly junk": {
        "content": daily_page(
            "Mar 12", [GARDENS, ("https://example.org/a", "An abstract of it."), ("101", "Another abstract of it.")]
        )
    },
    "Junk record": {"content": daily_page("Mar 12", [GARDENS, LANTERN, ("May 29", "Code for a paper, released.")])},
    "Truncated last record": {"content": compact_page([GARDENS, LANTERN]) + "\nA Title Cut Short"},
    "Unparseable author count": {"content": daily_meta_page("Jan 8", meta([GARDENS], authors="  • many authors"))},
    "Impossible publication date": {"content": daily_meta_page("Jan 8", meta([GARDENS], published="Feb 30, 2024"))},
    "Impossible listing date": {"content": daily_meta_page("Feb 30", meta([GARDENS])), "name": "capture.txt"},
    "Unreadable capture time": {
        "content": "---\nurl: https://huggingface.co/papers\nretrieved: yesterday\n---\n"
        + daily_meta_page("Jan 8", meta([GARDENS]))
    },
    "Capture wrapper": {"content": format_page("wrapper_source_facts.txt")},
    "Wrapped titles and abstracts": {"content": format_page("daily_wrapped.txt")},
    "Organisation for the author count": {"content": daily_meta_page("Jan 8", meta([GARDENS], authors="OCC"))},
    "Date without a year, comment count after it": {
        "content": daily_meta_page("Jan 8", meta([GARDENS], published="May 29 6"))
    },
    "File vanishes before it is read": {"content": compact_page([GARDENS]), "then": vanish_before_reading},
    "Unreadable file": {"content": compact_page([GARDENS]), "then": refuse_to_open},
    "File changes while it loads": {"content": daily_meta_page("Jan 8", meta([GARDENS])), "then": change_while_loading},
    "File name not UTF-8": {"content": compact_page([GARDENS]), "name": "caf\udce9.txt"},
    "Unreadable folder": {
        "content": compact_page([GARDENS]),
        "name": "locked/2026-03-05.txt",
        "then": unreadable_folder,
        "refused": lambda bad: bad.parent,
    },
    "CR-only line endings": {"write": cr_only_page},
    "Symbolic link loop": {"write": symlink_loop},
    "Other files beside the captures": {"write": files_beside_captures},
    "Huge file": {"write": big_page},
    "Line of several MB": {"write": long_line_page},
}
README_ROWS = readme_bad_input_rows()


def test_the_readme_bad_input_table_and_the_tests_list_the_same_cases():
    assert list(README_ROWS) == list(BAD_INPUT)


@pytest.mark.parametrize("case", list(README_ROWS), ids=list(README_ROWS))
def test_every_bad_input_row_of_the_readme(case, runner, db_url, page_dir, engine_of, monkeypatch):
    expected, given = README_ROWS[case], BAD_INPUT[case]
    name = given.get("name", BAD_PAGE)
    folder = page_dir({GOOD[0]: GOOD[1], **({name: given["content"]} if "content" in given else {})})
    bad = folder / name
    if "write" in given:
        given["write"](bad)
    if "then" in given:
        given["then"](monkeypatch, bad)

    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])

    assert result.exit_code == int(expected["exit"]), result.output
    assert "Traceback" not in result.output
    with engine_of(db_url).connect() as conn:
        loaded = conn.execute(sa.text("SELECT path FROM source_files ORDER BY path")).scalars().all()
        found = conn.execute(sa.text("SELECT path, level, reason, line_no FROM rejects")).all()
    assert str(folder / GOOD[0]) in loaded  # the other files still load
    if not expected["level"]:
        assert (found, loaded) == ([], sorted([str(bad), str(folder / GOOD[0])]))
        return
    refused = display_path(given["refused"](bad) if "refused" in given else bad)
    assert [(path, level) for path, level, _, _ in found] == [(refused, expected["level"])]
    assert expected["message"] in found[0].reason
    if expected["level"] == "file":
        assert display_path(bad) not in loaded
        refusals = [line for line in result.stderr.splitlines() if line.startswith(f"refused {refused}")]
        assert len(refusals) == 1 and expected["message"] in refusals[0]
    else:
        assert str(bad) in loaded


@pytest.mark.parametrize("spelling", ["papers.db", "link.db"])
def test_a_sqlite_database_inside_the_captures_folder_is_never_read(runner, page_dir, spelling):
    folder = page_dir({"a.txt": compact_page([GARDENS])})
    (folder / "link.db").symlink_to(folder / "papers.db")
    url = f"sqlite:///{folder / spelling}"

    for _ in range(2):  # the second run finds the database, its -wal and -shm files (and the old .lock) beside
        (folder / "papers.db.lock").touch()
        result = runner.invoke(main, ["load", "--db", url, "--include", "*", str(folder)])
        assert result.exit_code == EXIT_OK, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("refused")]
    assert "0 refused" in result.output


# --------------------------------------------------------------------------- the garbage collector during a run


class _CollectorWatch(Progress):
    """Notes the cyclic collector's settings while files load."""

    def __init__(self):
        self.seen = []

    def file_started(self, path: Path) -> None:
        self.seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))


def test_a_load_collects_garbage_less_often_and_puts_the_collector_back(engine, page_dir):
    before = gc.get_threshold()
    watch = _CollectorWatch()
    folder = page_dir({"2026-03-01.txt": compact_page([WAVELETS]), "2026-03-02.txt": compact_page([GARDENS])})

    run_load(engine, [folder], progress=watch, parse_process=False)

    assert watch.seen == [(YOUNG_COLLECTION_EVERY, True)] * 2
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert scalar(engine, "SELECT count(*) FROM papers") == 2


def test_a_failed_load_puts_the_collector_back_too(engine, page_dir, monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setattr(load.files, "_load_batch", _fail)
    folder = page_dir({"2026-03-01.txt": compact_page([WAVELETS])})

    with pytest.raises(RuntimeError):
        run_load(engine, [folder], parse_process=False)

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_load_leaves_objects_its_caller_froze_frozen(engine, page_dir):
    folder = page_dir({"2026-03-01.txt": compact_page([WAVELETS])})
    gc.freeze()  # as a server that forks its workers does
    try:
        frozen = gc.get_freeze_count()
        run_load(engine, [folder], parse_process=False)
        assert gc.get_freeze_count() > 0.9 * frozen  # still frozen (a few frozen objects were freed since)
    finally:
        gc.unfreeze()
    assert scalar(engine, "SELECT count(*) FROM papers") == 1


def _fail(*args, **kwargs):
    raise RuntimeError("the load failed")
