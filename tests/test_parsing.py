"""etl.parsing: files parsed here or in a worker process, and the parse digest --force compares."""

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
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from pages import GARDENS, LANTERN, ORBITS, WAVELETS, compact_page, daily_meta_page, daily_page

from etl.errors import EncodingError, InputError, LayoutError, ParserProcessError
from etl.extract import fingerprint
from etl.parsing import CHUNK_SIGHTINGS, Parser, parse_file
from etl.pipeline import Progress, run_load

PAGES = {
    "a.txt": daily_meta_page(
        "Jan 8", [(*ORBITS, "  • 3 authors", "Jun 7, 2023"), (*LANTERN, "  • many authors", "Feb 30, 2023")]
    ),
    "b-notes.txt": "some notes, not a capture\n",
    "c.txt": compact_page([WAVELETS, GARDENS] * (CHUNK_SIGHTINGS // 2 + 3)),  # more than one chunk
    "d-latin1.txt": compact_page([WAVELETS]).encode() + b"\nCaf\xe9\n",
    "e.txt": daily_page("Mar 12", [GARDENS]),
}


def digest_of(path, listed_on=None) -> str:
    with parse_file(fingerprint(path), listed_on) as parsed:
        list(parsed.sightings)
    return parsed.digest


def received(parser: Parser, ticket):
    """What receiving one file gives: its parse, or the error that refused it."""
    counted, sizes = [], []
    try:
        with parser.receive(ticket, lambda count, size: (counted.append(count), sizes.append(size))) as parsed:
            sightings = list(parsed.sightings)
            problems, tally, digest = parsed.problems, parsed.tally, parsed.digest
            # The text size (progress) is the same whichever process parsed: part of what is compared.
            return (parsed.layout, parsed.listing, sightings, problems, tally, digest, sum(counted), sum(sizes))
    except InputError as exc:
        return (type(exc), str(exc), exc.line_no)


def outcome(parser: Parser, facts, digest_only: bool = False):
    return received(parser, parser.submit(facts, digest_only))


@pytest.fixture
def pages(page_dir):
    folder = page_dir(PAGES)
    return [folder / name for name in sorted(PAGES)]


def test_the_worker_parses_exactly_as_this_process(pages):
    facts = [fingerprint(path) for path in pages]
    with Parser(None, in_process=True) as here, Parser(None, in_process=False) as worker:
        expected = [outcome(here, one) for one in facts]
        tickets = [worker.submit(one) for one in facts]  # all at once: the worker runs ahead
        found = [received(worker, ticket) for ticket in tickets]  # and files come back in order

    assert found == expected
    assert [first for first, *_ in expected] == ["daily_meta", LayoutError, "compact", EncodingError, "daily"]
    assert len(expected[2][2]) == 2 * (CHUNK_SIGHTINGS // 2 + 3)  # every sighting crossed over, in chunks
    assert len(expected[0][3]) == expected[0][4].fields_rejected == 2  # bad author count and date, with problems


def test_digest_only_counts_the_records_and_sends_no_sighting(pages):
    facts = fingerprint(pages[0])
    for in_process in (True, False):
        with Parser(None, in_process=in_process) as parser:
            layout, _, sightings, _, tally, digest, counted, _ = outcome(parser, facts, digest_only=True)
        assert (layout, sightings, tally.records, counted) == ("daily_meta", [], 2, 2)
        assert digest == digest_of(pages[0])


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
