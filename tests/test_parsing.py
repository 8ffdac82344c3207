"""etl.parsing: a file parsed as a stream of events, here or in a worker, and the digest --force compares."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from multiprocessing import Pipe
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from pages import GARDENS, LANTERN, ORBITS, WAVELETS, compact_page, daily_meta_page, daily_page

from etl import parsing
from etl.errors import EncodingError, InputError, LayoutError, ParserProcessError
from etl.events import FileEnd, FileHead, SightingBatch, Tally
from etl.extract import fingerprint_file
from etl.parsing import BATCH_SIGHTINGS, SEND_AHEAD_BATCHES, Parser, parse_events
from etl.pipeline import Progress, run_load
from etl.records import LEVEL_FIELD, LISTED_ON_HEADER, Capture

DATA = Path(__file__).parent / "data"

PAGES = {
    "a.txt": daily_meta_page(
        "Jan 8", [(*ORBITS, "  • 3 authors", "Jun 7, 2023"), (*LANTERN, "  • many authors", "Feb 30, 2023")]
    ),
    "b-notes.txt": "some notes, not a capture\n",
    "c.txt": compact_page([WAVELETS, GARDENS] * (BATCH_SIGHTINGS // 2 + 3)),  # more than one batch
    "d-latin1.txt": compact_page([WAVELETS]).encode() + b"\nCaf\xe9\n",
    "e.txt": daily_page("Mar 12", [GARDENS]),
}


def events_of(path, listed_on=None, digest_only=False) -> list:
    return list(parse_events(fingerprint_file(path), listed_on, digest_only))


def digest_of(path, listed_on=None) -> str:
    *_, end = events_of(path, listed_on)
    return end.digest


def received(parser: Parser, ticket):
    """What receiving one file gives: its events and its progress, or the error that refused it."""
    counted, sizes = [], []
    try:
        with parser.receive(ticket, lambda count, size: (counted.append(count), sizes.append(size))) as events:
            # The text size (progress) is the same whichever process parsed: part of what is compared.
            return (list(events), sum(counted), sum(sizes))
    except InputError as exc:
        return (type(exc), str(exc), exc.line_no)


def outcome(parser: Parser, fingerprint, digest_only: bool = False):
    return received(parser, parser.submit(fingerprint, digest_only))


@pytest.fixture
def pages(page_dir):
    folder = page_dir(PAGES)
    return [folder / name for name in sorted(PAGES)]


def test_a_file_parses_to_its_head_batches_of_its_sightings_and_its_end():
    path = DATA / "daily_meta_bad_fields.txt"

    head, *batches, end = events_of(path)

    assert (head.fingerprint, head.layout, head.capture) == (fingerprint_file(path), "daily_meta", Capture())
    listing_date = head.listing_date  # "Sep 9" in the header; the year is the file's (its mtime)
    assert (listing_date.value.month, listing_date.value.day, listing_date.source) == (9, 9, LISTED_ON_HEADER)
    assert [type(event) for event in (head, *batches, end)] == [FileHead, SightingBatch, FileEnd]
    assert [s.record.raw_title for s in batches[0].sightings] == [
        "Impossible Calendars: Dates That Never Were",
        "Gentle Warmup for Sparse Transformers",
        "Month-Only Metadata",
    ]
    assert end.tally == Tally(records=3, records_rejected=0, fields_rejected=3)
    assert [(p.level, p.line_no, p.excerpt) for p in end.problems] == [
        (LEVEL_FIELD, 19, "Feb 30, 2023"),
        (LEVEL_FIELD, 17, "• many authors"),
        (LEVEL_FIELD, 35, "Jun 2023"),
    ]
    assert end.digest == digest_of(path) != digest_of(path, dt.date(2026, 1, 8)) and len(end.digest) == 32


def test_the_sightings_come_in_batches_of_at_most_batch_sightings(pages, monkeypatch):
    _, *batches, end = events_of(pages[2])  # c.txt: BATCH_SIGHTINGS + 6 papers
    assert [len(batch.sightings) for batch in batches] == [BATCH_SIGHTINGS, 6]
    assert end.tally.records == BATCH_SIGHTINGS + 6

    path = DATA / "daily_meta_bad_fields.txt"
    _, *one_batch, end_of_one = events_of(path)
    monkeypatch.setattr("etl.parsing.BATCH_SIGHTINGS", 2)
    _, *small_batches, end_of_small = events_of(path)

    assert [len(batch.sightings) for batch in one_batch] == [3]
    assert [len(batch.sightings) for batch in small_batches] == [2, 1]
    assert [s for b in small_batches for s in b.sightings] == [s for b in one_batch for s in b.sightings]
    assert end_of_small == end_of_one  # problems, tally and digest do not depend on the batches


def events_until_refused(path) -> tuple[list[str], InputError]:
    kinds = []
    with pytest.raises(InputError) as refused:
        for event in parse_events(fingerprint_file(path), None):
            kinds.append(type(event).__name__)
    return kinds, refused.value


def test_a_refused_file_raises_its_one_line_error_and_gives_no_end():
    kinds, error = events_until_refused(DATA / "not_a_listing.txt")  # refused on opening: no event
    assert (kinds, type(error), error.line_no) == ([], LayoutError, 1)
    assert str(error.at("a.txt")).startswith("a.txt:1: unknown layout: no Hugging Face papers banner")

    junk = DATA / "formats" / "junk_page.txt"
    kinds, error = events_until_refused(junk)  # refused once read through: no end
    assert (kinds, type(error), error.line_no) == (["FileHead"], LayoutError, 11)
    assert str(error).startswith(f"{junk}:11: no record reads as a paper (first, line 11: ")
    assert "\n" not in str(error)


def test_the_worker_sends_exactly_the_events_of_this_process(pages):
    fingerprints = [fingerprint_file(path) for path in [*pages, DATA / "daily_meta_bad_fields.txt"]]
    with Parser(None, in_process=True) as this_process, Parser(None, in_process=False) as worker:
        expected = [outcome(this_process, one) for one in fingerprints]
        tickets = [worker.submit(one) for one in fingerprints]  # all at once: the worker runs ahead
        found = [received(worker, ticket) for ticket in tickets]  # and files come back in order

    assert found == expected
    layouts = [result[0][0].layout if isinstance(result[0], list) else result[0] for result in expected]
    assert layouts == ["daily_meta", LayoutError, "compact", EncodingError, "daily", "daily_meta"]
    c_events, c_counted, _ = expected[2]
    assert [len(e.sightings) for e in c_events[1:-1]] == [BATCH_SIGHTINGS, 6]  # every sighting crossed over
    assert c_counted == BATCH_SIGHTINGS + 6  # progress heard of each batch
    a_end = expected[0][0][-1]
    assert len(a_end.problems) == a_end.tally.fields_rejected == 2  # bad author count and date, with problems
    assert expected[3][1] == str(events_until_refused(pages[3])[1])  # the refusal, as parse_events raises it


def test_digest_only_gives_the_head_and_the_end_and_counts_the_records(pages):
    fingerprint = fingerprint_file(pages[0])
    for in_process in (True, False):
        with Parser(None, in_process=in_process) as parser:
            events, counted, _ = outcome(parser, fingerprint, digest_only=True)
        head, end = events
        assert (head.layout, end.tally.records, counted) == ("daily_meta", 2, 2)
        assert end == events_of(pages[0])[-1]


def test_the_digest_changes_with_what_the_file_parses_to(pages, tmp_path):
    first = digest_of(pages[0])
    copy = tmp_path / "copy.txt"
    copy.write_bytes(pages[0].read_bytes())

    assert digest_of(pages[0]) == first and len(first) == 32
    assert digest_of(pages[0], dt.date(2026, 1, 8)) != first  # another listing date
    assert digest_of(copy) != first  # another path
    pages[0].write_text(pages[0].read_text().replace("3 authors", "4 authors"))
    assert digest_of(pages[0]) != first  # another author count, same path


def test_an_input_error_crosses_processes_with_its_place():
    error = EncodingError("not UTF-8 (byte 0xe9 at offset 27)", "captures/a.txt", 7)

    again = pickle.loads(pickle.dumps(error))

    assert (type(again), again.reason, again.path, again.line_no) == (EncodingError, error.reason, error.path, 7)
    assert str(again) == "captures/a.txt:7: not UTF-8 (byte 0xe9 at offset 27)"


class KillWorkerAfterFirstFile(Progress):
    def file_done(self, result) -> None:
        if not hasattr(self, "killed"):
            (worker,) = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
            os.kill(int(worker), signal.SIGKILL)
            self.killed = worker


def test_a_killed_parser_process_fails_the_run_and_keeps_the_files_before(engine, page_dir):
    folder = page_dir({f"{n:02d}.txt": compact_page([(f"Paper Number {n}", WAVELETS[1])]) for n in range(40)})

    with pytest.raises(ParserProcessError, match=r"parser process stopped unexpectedly \(exit code -9\)"):
        run_load(engine, [folder], parse_process=True, progress=KillWorkerAfterFirstFile())

    with engine.connect() as conn:
        loaded = conn.exec_driver_sql("SELECT count(*) FROM source_files").scalar_one()
        run = conn.exec_driver_sql("SELECT status, message FROM etl_runs").one()
    assert 1 <= loaded < 40  # what was committed before stays; the rest loads on the next run
    assert run[0] == "failed" and "parser process stopped" in run[1]
    assert run_load(engine, [folder]).counts["files_loaded"] == 40 - loaded


def test_the_worker_imports_the_same_etl_as_its_parent_from_any_working_directory(tmp_path, page_dir):
    """A copy of etl that is not installed, run from another folder: its worker must parse with that copy
    (``python -m etl.parse_worker`` found no etl there, or the installed one). The copy's parse digest is
    marked, so a digest from any other etl would differ."""
    app = tmp_path / "app"
    shutil.copytree(PROJECT_ROOT / "etl", app / "etl", ignore=shutil.ignore_patterns("__pycache__"))
    for shared in ("migrations", "alembic.ini"):
        (app / shared).symlink_to(PROJECT_ROOT / shared)
    parsing = app / "etl" / "parsing.py"
    marked = re.sub(r'DIGEST_VERSION = b"[^"]*"', 'DIGEST_VERSION = b"a copy of etl"', parsing.read_text())
    assert "a copy of etl" in marked
    parsing.write_text(marked)
    (app / "run.py").write_text(
        "import os, sys\n"
        "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
        "from etl.cli import main\n"
        "main(sys.argv[1:], prog_name='papers-etl')\n"
    )
    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS])})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    digests = []
    for mode in ("--parse-process", "--no-parse-process"):
        database = tmp_path / f"{mode}.db"
        subprocess.run(
            [sys.executable, str(app / "run.py"), "load", mode, "--db", f"sqlite:///{database}", str(folder)],
            cwd=elsewhere,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            check=True,
            capture_output=True,
            timeout=120,
        )
        with sqlite3.connect(database) as conn:
            digests += conn.execute("SELECT parse_digest FROM source_files").fetchall()

    assert digests[0] == digests[1]
    assert digests[0] != (digest_of(folder / "a.txt"),)  # the copy's marked digest, not this etl's


def test_the_worker_parses_ahead_of_a_load_that_is_busy(monkeypatch, tmp_path):
    """The worker's loop goes on parsing while nobody reads its pipe (the load is writing), up to its send
    queue: a pipe alone holds a batch or two, after which parsing waited for the load."""
    produced = []

    def many_events(fingerprint, listed_on, digest_only=False):
        for number in range(SEND_AHEAD_BATCHES + 10):
            produced.append(number)
            yield "x" * 100_000  # about a batch's pickled size: a pipe holds less than one

    monkeypatch.setattr(parsing, "parse_events", many_events)
    tasks_out, tasks_in = Pipe(duplex=False)
    results_out, results_in = Pipe(duplex=False)
    worker = threading.Thread(target=parsing.work, args=(tasks_out, results_in), daemon=True)
    worker.start()
    (tmp_path / "a.txt").write_text("any\n")
    tasks_in.send(
        (parsing.Ticket(0, fingerprint_file(tmp_path / "a.txt"), False), None)
    )  # nobody reads results_out yet
    deadline = time.monotonic() + 30
    while len(produced) < SEND_AHEAD_BATCHES and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(produced) >= SEND_AHEAD_BATCHES

    tasks_in.close()  # end of tasks: the worker sends what it holds, in order, then stops
    assert [results_out.recv() for _ in range(SEND_AHEAD_BATCHES + 10)] == ["x" * 100_000] * (SEND_AHEAD_BATCHES + 10)
    worker.join(timeout=30)
    assert not worker.is_alive()
