"""Parse capture files into events (extract, then transform), here or in a second process.

``parse_events`` reads one file as a stream of small immutable events
(``etl.events``): its head, batches of sightings, its end with its problems,
their tally and the parse digest. The load consumes them as they come, so
memory stays flat whatever the size of the file.

A load spends about as long parsing files as writing them. On a machine with
more than one core, ``Parser`` overlaps the two: a worker process runs
``parse_events`` on the next files while this process writes the current one,
and sends the events as they are through a pipe; files come back in the order
they were submitted. Without the worker (one core, ``--no-parse-process``, a
dry run) the same generator runs here, lazily, as the load consumes it.

The digest is of what the file parses to (records, papers, problems, listing
date, path). ``load --force`` compares it with the digest stored at the file's
earlier load: a file that parses exactly as before has nothing to reload, so
only the parse is paid.

Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, LayoutError, ParserProcessError
from .events import FileEnd, FileEvent, FileHead, SightingBatch, Tally
from .extract import Fingerprint, iter_lines, open_capture
from .formats import PageStream
from .records import LEVEL_RECORD, Problem, Sighting

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# The transform (LaTeX, dates, fuzzy keys) and multiprocessing are imported at the first file parsed:
# a scheduled re-run that finds every file already loaded is mostly the interpreter's start-up.

log = logging.getLogger(__name__)

# Sightings per SightingBatch, one message from the worker (about 0.2 MB pickled). A consumer holds a
# batch or two while the next is parsed: at 200, a dry run's peak memory was 1.3 times that at 50.
BATCH_SIGHTINGS = 50
PIPE_BYTES = 1 << 20  # what the pipe from the worker holds (Linux lets a pipe hold at most 1 MB unprivileged)
# Events the worker keeps ready beyond the pipe: 2,000 sightings, two files of 1,000 records (a few MB).
SEND_AHEAD_BATCHES = 40
STOP_SECONDS = 5.0  # how long a stopping worker is waited for before it is killed
# 2: capture facts (page URL, kind, capture time), card values; 3: values pickled, not repr()
DIGEST_VERSION = b"papers-etl parse digest 3"
DIGEST_PICKLE_PROTOCOL = 4  # fixed, so that a newer Python's default does not change every digest

RecordsRead = Callable[[int, int], None]  # (records, characters of their text): progress

# The worker imports the very ``etl`` package this process runs, from its folder, whatever the
# working directory, sys.path or installed copies say (``python -m etl.parse_worker`` found no
# ``etl`` when it was not installed and the directory had changed, or found another one).
PACKAGE_DIR = str(Path(__file__).resolve().parent)
WORKER_BOOTSTRAP = """
import importlib.util, os, sys
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]  # nothing from the working directory
folder, tasks, results = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("etl", os.path.join(folder, "__init__.py"),
                                              submodule_search_locations=[folder])
package = importlib.util.module_from_spec(spec)
sys.modules["etl"] = package
spec.loader.exec_module(package)
from etl.parse_worker import serve
serve(int(tasks), int(results))
"""


# --------------------------------------------------------------------------- one file, in this process


def parse_events(fingerprint: Fingerprint, listed_on: dt.date | None, digest_only: bool = False) -> Iterator[FileEvent]:
    """Parse the file ``fingerprint`` names, lazily, as its events (``etl.events``): its FileHead, SightingBatches
    of up to BATCH_SIGHTINGS, then its FileEnd. ``digest_only`` (``load --force`` of a file loaded before): no
    batch, only the end, whose digest says whether the file parses as at its earlier load. Raises InputError
    when the file cannot be used (when opened, or on the way): no event follows. Close the generator (or read it
    through) to close the file."""
    path = fingerprint.path
    with open_capture(path) as chunks:
        hashed = _HashedChunks(chunks)
        with _refused_on_parser_failure(path):
            page = PageStream(iter_lines(hashed, path))
        head = _file_head(fingerprint, page, listed_on)
        yield head
        with _refused_on_parser_failure(path):
            end = yield from _sighting_batches(head, page, digest_only)
        if hashed.sha256 != fingerprint.sha256:
            raise InputError("the file changed while it was being loaded; run the load again", path)
        yield end


def _file_head(fingerprint: Fingerprint, page: PageStream, listed_on: dt.date | None) -> FileHead:
    from .transform import resolve_listed_on

    capture = page.capture
    listing_date = resolve_listed_on(
        page.header_date, fingerprint.path.name, fingerprint.mtime, listed_on, page.header_date_line_no, capture
    )
    return FileHead(fingerprint, page.layout, listing_date, capture)


def _sighting_batches(head: FileHead, page: PageStream, digest_only: bool) -> Generator[SightingBatch, None, FileEnd]:
    """The page's sightings in batches (none with ``digest_only``); returns the file's end."""
    from .transform import sighting_card, transform_record, year_bound

    listing_date = head.listing_date
    problems = [*head.capture.problems, *([listing_date.problem] if listing_date.problem else [])]
    digest = _Digest(head)
    bound = year_bound(listing_date.value, head.capture, head.fingerprint.mtime)
    records = 0
    batch: list[Sighting] = []
    for record in page.records():
        paper, found = transform_record(record, bound)
        problems.extend(found)
        if paper is None:
            continue
        sighting = Sighting(record, paper, sighting_card(record))
        digest.add_sighting(sighting)
        records += 1
        if not digest_only:
            batch.append(sighting)
        if len(batch) == BATCH_SIGHTINGS:
            yield SightingBatch(tuple(batch))
            batch = []
    if batch:
        yield SightingBatch(tuple(batch))
    problems.extend(page.problems)  # complete once the records are read
    tally = Tally.of(records, problems)
    _refuse_a_page_of_junk(tally, problems, head.fingerprint.path)
    return FileEnd(tuple(problems), tally, digest.finish(problems))


def _refuse_a_page_of_junk(tally: Tally, problems: list[Problem], path: Path) -> None:
    """A page where no record, or fewer than half, reads as a paper was read in a layout it is
    not in: refuse it whole (its savepoint rolls back) rather than load what it does not say."""
    loaded, rejected = tally.records, tally.records_rejected
    if rejected == 0 or rejected <= loaded:
        return
    first = min(
        (p for p in problems if p.level == LEVEL_RECORD),
        key=lambda p: p.line_no or 0,
    )
    what = "no record reads as a paper" if loaded == 0 else f"{rejected} of {loaded + rejected} records are not papers"
    where = f"line {first.line_no}: " if first.line_no is not None else ""
    raise LayoutError(
        f"{what} (first, {where}{first.reason}); the page is refused whole: "
        "check that it is a Hugging Face papers page in a known layout",
        path,
        first.line_no,
    )


@contextmanager
def _refused_on_parser_failure(path: Path) -> Iterator[None]:
    """An unexpected parser failure refuses this file only, never the run."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        log.info("parser failure on %s: %s: %s", path, type(exc).__name__, exc)
        log.debug("where the parser failed", exc_info=True)  # the stack at -vv only
        raise InputError(
            f"unexpected parser failure ({type(exc).__name__}: {exc}); please report it with this file", path
        ) from exc


class _HashedChunks:
    """Chunks passed through while hashed: the bytes loaded are the bytes whose sha256 is recorded."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = chunks
        self._digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._digest.update(chunk)
            yield chunk

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


class _HashWriter:
    """A file-like object whose writes go into a hash."""

    def __init__(self, digest) -> None:
        self.write = digest.update


class _Digest:
    """What a file parses to, in 32 hex characters: everything the load writes from it."""

    def __init__(self, head: FileHead):
        self._hash = hashlib.blake2b(DIGEST_VERSION, digest_size=16)
        # Values pickled straight into the hash: twice as fast as repr() (an eighth of the parse).
        # Without a memo ("fast" mode), equal values give equal bytes whether or not they are
        # one object, so the digest depends on what the file parses to, never on how.
        self._pickler = pickle.Pickler(_HashWriter(self._hash), protocol=DIGEST_PICKLE_PROTOCOL)
        self._pickler.fast = True
        listing_date, capture = head.listing_date, head.capture
        self._add((str(head.fingerprint.path), head.layout, listing_date.value, listing_date.source))
        self._add((capture.page_url, capture.page_kind, capture.captured_at))

    def add_sighting(self, sighting: Sighting) -> None:
        record, paper = sighting.record, sighting.paper
        self._add(
            (
                record.position,
                record.line_no,
                record.raw_title,
                record.raw_abstract,
                record.raw_meta,
                sighting.card,
                paper.title,
                paper.title_key,
                paper.abstract,
                paper.abstract_key,
                paper.published_on,
                paper.author_count,
                tuple((link.url, link.kind, link.repo, link.found_in) for link in paper.links),
                paper.arxiv_id,
            )
        )

    def finish(self, problems: Iterable[Problem]) -> str:
        for problem in problems:
            self._add((problem.level, problem.reason, problem.line_no, problem.excerpt))
        return self._hash.hexdigest()

    def _add(self, values: tuple) -> None:
        self._pickler.dump(values)


# --------------------------------------------------------------------------- many files, maybe in a worker


@dataclass(frozen=True)
class Ticket:
    """A file submitted to a Parser, to be received in submission order."""

    number: int
    fingerprint: Fingerprint
    digest_only: bool  # only the digest is wanted (load --force of a file loaded before)


class Parser:
    """Parses submitted files, in a worker process (``in_process=False``) or here,
    and hands back their events in submission order through ``receive``.

    The worker (``etl.parse_worker``, imported from this package's folder) is started at the first
    submission, so a run that parses nothing (every file already loaded) never
    pays for it. It talks over two pipes: tasks in, events out (or the InputError
    that refuses a file). The worker runs ahead by what the pipe (PIPE_BYTES)
    and its send queue (SEND_AHEAD_BATCHES) hold, about two files, so memory stays flat; when either process dies,
    the other reads end-of-file or a broken pipe and stops. Use as a context
    manager: the worker is stopped on exit, whatever happened.
    """

    def __init__(self, listed_on: dt.date | None, in_process: bool):
        self._listed_on = listed_on
        self._in_process = in_process
        self._submitted = 0
        self._received = 0
        self._worker: subprocess.Popen | None = None
        self._tasks: Connection | None = None
        self._results: Connection | None = None

    @property
    def runs_ahead(self) -> bool:
        """Whether submitted files are parsed ahead, in the worker process."""
        return not self._in_process

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def submit(self, fingerprint: Fingerprint, digest_only: bool = False) -> Ticket:
        ticket = Ticket(self._submitted, fingerprint, digest_only)
        self._submitted += 1
        if not self._in_process:
            self._start_worker()
            with suppress(OSError):  # the worker is gone: receive() says so, with its exit status
                self._tasks.send((ticket, self._listed_on))
        return ticket

    @contextmanager
    def receive(self, ticket: Ticket, records_read: RecordsRead) -> Iterator[Iterator[FileEvent]]:
        """The events of ``ticket``'s file (the oldest not yet received), as ``parse_events`` yields them;
        ``records_read`` hears of its records as their batches pass (of a ``digest_only`` file, at its end).
        The events raise the InputError that refuses the file, if one does."""
        if ticket.number != self._received:
            raise RuntimeError(f"ticket {ticket.number} received out of order (expected {self._received})")
        self._received += 1
        if self._in_process:
            with self.parse_now(ticket.fingerprint, ticket.digest_only, records_read) as events:
                yield events
            return
        events = _reporting(self._events_from_worker(), records_read)
        try:
            yield events
        except InputError:
            _drain(events)  # the file is refused, the run goes on: its remaining events come next
            raise
        else:
            _drain(events)  # a consumer that stopped early: the next file's events follow

    @contextmanager
    def parse_now(
        self, fingerprint: Fingerprint, digest_only: bool, records_read: RecordsRead
    ) -> Iterator[Iterator[FileEvent]]:
        """Parse a file in this process, as its events are read, outside the submission order
        (a file whose fate is only known at its turn). The file is closed on exit."""
        with closing(parse_events(fingerprint, self._listed_on, digest_only)) as events:
            yield _reporting(events, records_read)

    def close(self) -> None:
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        self._tasks.close()  # end of tasks: an idle worker exits
        self._results.close()  # a worker still sending gets a broken pipe and exits
        try:
            worker.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    def _start_worker(self) -> None:
        if self._worker is not None:
            return
        from multiprocessing.connection import Connection

        task_reader, task_writer = os.pipe()
        result_reader, result_writer = os.pipe()
        _widen(result_writer)
        self._worker = subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOTSTRAP, PACKAGE_DIR, str(task_reader), str(result_writer)],
            pass_fds=(task_reader, result_writer),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C is for the load, which then stops the worker
        )
        os.close(task_reader)  # the worker's ends: only it holds them now, so its exit is seen as end-of-file
        os.close(result_writer)
        self._tasks = Connection(task_writer, readable=False)
        self._results = Connection(result_reader, writable=False)
        log.debug("parsing in a second process (pid %d)", self._worker.pid)

    def _events_from_worker(self) -> Iterator[FileEvent]:
        """One file's events as the worker sends them, checked to come in order: a head, batches, an end."""
        expected: tuple[type, ...] = (FileHead,)
        while True:
            message = self._next_message()
            if isinstance(message, InputError):
                raise message
            if not isinstance(message, expected):
                wanted = " or ".join(kind.__name__ for kind in expected)
                raise ParserProcessError(f"the parser process sent {type(message).__name__} where {wanted} was due")
            yield message
            if isinstance(message, FileEnd):
                return
            expected = (SightingBatch, FileEnd)

    def _next_message(self) -> FileEvent | InputError:
        try:
            return self._results.recv()
        except (EOFError, OSError):
            status = self._worker.wait(timeout=STOP_SECONDS)
            raise ParserProcessError(
                f"the parser process stopped unexpectedly (exit code {status}); "
                "files loaded until then stay loaded: run the load again"
            ) from None


def _widen(fd: int) -> None:
    """A larger pipe (Linux) lets the worker run a little further ahead."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with suppress(OSError):  # above the system's limit: keep the default
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


def _reporting(events: Iterable[FileEvent], records_read: RecordsRead) -> Iterator[FileEvent]:
    """The events, with ``records_read`` told of each batch as it passes, and at the end of the records
    that no batch carried (a digest-only parse): the same progress whichever process parsed."""
    reported = 0
    for event in events:
        if isinstance(event, SightingBatch):
            reported += len(event.sightings)
            records_read(len(event.sightings), sum(map(_text_size, event.sightings)))
        elif isinstance(event, FileEnd) and event.tally.records > reported:
            records_read(event.tally.records - reported, 0)
        yield event


def _text_size(sighting: Sighting) -> int:
    """Characters of a record's text: how far into its file the parse has got, near enough for a progress
    bar (len() is free; encoding to count bytes is not)."""
    record = sighting.record
    return (
        len(record.raw_title)
        + len(record.raw_abstract or "")
        + len(record.raw_authors or "")
        + len(record.raw_published or "")
    )


def _drain(items: Iterator) -> None:
    for _ in items:
        pass


# --------------------------------------------------------------------------- the worker process


def work(tasks: Connection, results: Connection) -> None:
    """The worker's main loop (``etl.parse_worker``): parse each task's file and send its events
    back as they come, until the tasks end. A load that died closes the pipes: then it stops."""
    with _Sender(results) as sender:
        while True:
            try:
                ticket, listed_on = tasks.recv()
            except EOFError:
                return
            try:
                _send_events(ticket, listed_on, sender.send)
            except BrokenPipeError:
                return


class _Sender:
    """Sends the worker's events from a thread, through a queue of SEND_AHEAD_BATCHES events, so that
    parsing goes on while the load is busy and the pipe is full. The load takes sightings a file (up to
    BATCH_RECORDS) at a time; with only the pipe between them, the worker ran about 250 sightings ahead
    and then waited, and the load then waited for the rest of the file: the two processes mostly took
    turns instead of working at once."""

    _END = object()

    def __init__(self, results: Connection):
        self._results = results
        self._queue: queue.Queue = queue.Queue(maxsize=SEND_AHEAD_BATCHES)
        self._broken = False
        self._thread = threading.Thread(target=self._run, name="papers-etl-send", daemon=True)

    def __enter__(self) -> _Sender:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._queue.put(self._END)  # what is queued is sent first (or dropped, when the load went away)
        self._thread.join()

    def send(self, event: FileEvent | InputError) -> None:
        if self._broken:
            raise BrokenPipeError("the load closed its end of the pipe")
        self._queue.put(event)

    def _run(self) -> None:
        while (event := self._queue.get()) is not self._END:
            if self._broken:
                continue  # keep taking events, so that a parse waiting to queue one does not wait forever
            try:
                self._results.send(event)
            except OSError:  # BrokenPipeError, or the pipe closed: the load stopped
                self._broken = True


def _send_events(ticket: Ticket, listed_on: dt.date | None, send: Callable[[FileEvent | InputError], None]) -> None:
    """The events of the ticket's file, or (after those sent) the InputError that refuses it."""
    try:
        for event in parse_events(ticket.fingerprint, listed_on, ticket.digest_only):
            send(event)
    except InputError as exc:
        send(exc)
