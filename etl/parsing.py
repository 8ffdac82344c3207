"""Parse capture files into sightings (extract, then transform), here or in a second process.

A load spends about as long parsing files as writing them. On a machine with
more than one core, ``Parser`` overlaps the two: a worker process parses the next
files while this process writes the current one. Sightings cross over in chunks
through a pipe, so memory stays flat whatever the size of the files, and files
come back in the order they were submitted. Without the worker (one
core, ``--no-parse-process``, a dry run) the same ``parse_file`` runs here,
lazily, as the load consumes it.

``parse_file`` also computes a digest of what the file parses to (records,
papers, problems, listing date, path). ``load --force`` compares it with the
digest stored at the file's earlier load: a file that parses exactly as before
has nothing to reload, so only the parse is paid.

Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import InputError, LayoutError, ParserProcessError
from .extract import Fingerprint, iter_lines, open_capture
from .formats import PageStream
from .records import LEVEL_FIELD, LEVEL_RECORD, Capture, ListingDate, Problem, Sighting
from .transform import resolve_listed_on, sighting_card, transform_record, year_bound

log = logging.getLogger(__name__)

CHUNK_SIGHTINGS = 200  # sightings per message from the worker (about 0.7 MB pickled)
PIPE_BYTES = 1 << 20  # what the pipe from the worker holds: the worker runs about this far ahead
STOP_SECONDS = 5.0  # how long a stopping worker is waited for before it is killed
DIGEST_VERSION = b"papers-etl parse digest 2"  # 2: capture facts (page URL, kind, capture time), card values

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


@dataclass
class Tally:
    records: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.records_rejected += problem.level == LEVEL_RECORD
            self.fields_rejected += problem.level == LEVEL_FIELD


@dataclass
class ParsedFile:
    """A file being parsed. ``sightings`` is consumed once; ``problems``, ``tally``
    and ``digest`` are complete when it is exhausted."""

    facts: Fingerprint
    layout: str
    listing: ListingDate
    sightings: Iterator[Sighting]
    capture: Capture = field(default_factory=Capture)
    problems: list[Problem] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    digest: str | None = None
    digest_only: bool = False  # parsed for its digest only: ``sightings`` were consumed already


# --------------------------------------------------------------------------- one file, in this process


@contextmanager
def parse_file(facts: Fingerprint, listed_on: dt.date | None) -> Iterator[ParsedFile]:
    """Open ``facts.path`` and parse it lazily. Raises InputError when the file cannot be
    used (when opened, or from ``sightings`` as it is consumed)."""
    with open_capture(facts.path) as chunks:
        hashed = _HashedChunks(chunks)
        page = _guarded(lambda: PageStream(iter_lines(hashed, facts.path)), facts.path)
        capture = page.capture
        listing = resolve_listed_on(
            page.header_date, facts.path.name, facts.mtime, listed_on, page.header_date_line_no, capture
        )
        parsed = ParsedFile(facts, page.layout, listing, iter(()), capture)
        head_problems = [*capture.problems, *([listing.problem] if listing.problem else [])]
        parsed.problems.extend(head_problems)
        parsed.tally.add(head_problems)
        parsed.sightings = _sightings(page, parsed, hashed)
        yield parsed


def _sightings(page: PageStream, parsed: ParsedFile, hashed: _HashedChunks) -> Iterator[Sighting]:
    path = parsed.facts.path
    digest = _Digest(parsed)
    bound = year_bound(parsed.listing.value, parsed.capture, parsed.facts.mtime)
    try:
        for record in page.records():
            paper, found = transform_record(record, bound)
            parsed.problems.extend(found)
            parsed.tally.add(found)
            if paper is not None:
                parsed.tally.records += 1
                sighting = Sighting(record, paper, sighting_card(record))
                digest.add_sighting(sighting)
                yield sighting
        parsed.problems.extend(page.problems)
        parsed.tally.add(page.problems)
    except InputError:
        raise
    except Exception as exc:
        raise _parser_failure(exc, path) from exc
    _refuse_a_page_of_junk(parsed, path)
    if hashed.sha256 != parsed.facts.sha256:
        raise InputError("the file changed while it was being loaded; run the load again", path)
    parsed.digest = digest.finish(parsed.problems)


def _refuse_a_page_of_junk(parsed: ParsedFile, path: Path) -> None:
    """A page where no record, or fewer than half, reads as a paper was read in a layout it is
    not in: refuse it whole (its savepoint rolls back) rather than load what it does not say."""
    loaded, rejected = parsed.tally.records, parsed.tally.records_rejected
    if rejected == 0 or rejected <= loaded:
        return
    first = min(
        (p for p in parsed.problems if p.level == LEVEL_RECORD),
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


def _guarded(parse: Callable[[], PageStream], path: Path) -> PageStream:
    """An unexpected parser failure refuses this file only, never the run."""
    try:
        return parse()
    except InputError:
        raise
    except Exception as exc:
        raise _parser_failure(exc, path) from exc


def _parser_failure(exc: Exception, path: Path) -> InputError:
    log.info("parser failure on %s: %s: %s", path, type(exc).__name__, exc)
    log.debug("where the parser failed", exc_info=True)  # the stack at -vv only
    return InputError(f"unexpected parser failure ({type(exc).__name__}: {exc}); please report it with this file", path)


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


class _Digest:
    """What a file parses to, in 32 hex characters: everything the load writes from it."""

    def __init__(self, parsed: ParsedFile):
        self._hash = hashlib.blake2b(DIGEST_VERSION, digest_size=16)
        listing, capture = parsed.listing, parsed.capture
        self._add((str(parsed.facts.path), parsed.layout, listing.value, listing.source))
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

    def finish(self, problems: list[Problem]) -> str:
        for problem in problems:
            self._add((problem.level, problem.reason, problem.line_no, problem.excerpt))
        return self._hash.hexdigest()

    def _add(self, values: tuple) -> None:
        self._hash.update(repr(values).encode("utf-8", "surrogatepass"))
        self._hash.update(b"\x00")


# --------------------------------------------------------------------------- many files, maybe in a worker


@dataclass(frozen=True)
class Ticket:
    """A file submitted to a Parser, to be received in submission order."""

    number: int
    facts: Fingerprint
    digest_only: bool  # only the digest is wanted (load --force of a file loaded before)


class Parser:
    """Parses submitted files, in a worker process (``in_process=False``) or here,
    and hands them back in submission order through ``receive``.

    The worker (``etl.parse_worker``, imported from this package's folder) is started at the first
    submission, so a run that parses nothing (every file already loaded) never
    pays for it. It talks over two pipes: tasks in, messages out. A pipe holds
    little (PIPE_BYTES), so the worker runs at most a chunk or two ahead and
    memory stays flat; when either process dies, the other reads end-of-file or
    a broken pipe and stops. Use as a context manager: the worker is stopped on
    exit, whatever happened.
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

    def submit(self, facts: Fingerprint, digest_only: bool = False) -> Ticket:
        ticket = Ticket(self._submitted, facts, digest_only)
        self._submitted += 1
        if not self._in_process:
            self._start_worker()
            with suppress(OSError):  # the worker is gone: receive() says so, with its exit status
                self._tasks.send((ticket, self._listed_on))
        return ticket

    @contextmanager
    def receive(self, ticket: Ticket, records_read: RecordsRead) -> Iterator[ParsedFile]:
        """The parsed file of ``ticket`` (the oldest not yet received). With
        ``digest_only``, its sightings are already consumed and its digest set."""
        if ticket.number != self._received:
            raise RuntimeError(f"ticket {ticket.number} received out of order (expected {self._received})")
        self._received += 1
        if self._in_process:
            with self.here(ticket.facts, ticket.digest_only, records_read) as parsed:
                yield parsed
            return
        parsed = self._head(ticket)
        parsed.sightings = self._sightings_from_worker(ticket, parsed, records_read)
        try:
            if ticket.digest_only:
                _drain(parsed.sightings)
                parsed.digest_only = True
            yield parsed
        except InputError:
            _drain(parsed.sightings)  # the file is refused, the run goes on: its remaining messages come next
            raise
        else:
            _drain(parsed.sightings)  # a consumer that stopped early: the next file's messages follow

    @contextmanager
    def here(self, facts: Fingerprint, digest_only: bool, records_read: RecordsRead) -> Iterator[ParsedFile]:
        """Parse a file in this process now, outside the submission order (a file whose
        fate is only known at its turn)."""
        with parse_file(facts, self._listed_on) as parsed:
            parsed.sightings = _counted(parsed.sightings, records_read)
            if digest_only:
                _drain(parsed.sightings)
                parsed.digest_only = True
            yield parsed

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

    def _head(self, ticket: Ticket) -> ParsedFile:
        kind, *body = self._next_message()
        if kind == "error":
            raise body[0]
        if kind != "head":
            raise ParserProcessError(f"the parser process sent {kind!r} where a file's start was expected")
        layout, listing, capture = body
        return ParsedFile(ticket.facts, layout, listing, iter(()), capture)

    def _sightings_from_worker(
        self, ticket: Ticket, parsed: ParsedFile, records_read: RecordsRead
    ) -> Iterator[Sighting]:
        while True:
            kind, *body = self._next_message()
            if kind == "sightings":
                records_read(len(body[0]), sum(map(_text_size, body[0])))
                yield from body[0]
            elif kind == "end":
                problems, parsed.tally, parsed.digest = body
                parsed.problems.extend(problems)
                if ticket.digest_only:  # no sightings were sent: count them now
                    records_read(parsed.tally.records, 0)
                return
            elif kind == "error":
                raise body[0]
            else:
                raise ParserProcessError(f"the parser process sent {kind!r} inside a file")

    def _next_message(self) -> tuple:
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


def _counted(sightings: Iterator[Sighting], records_read: RecordsRead, every: int = 200) -> Iterator[Sighting]:
    count = size = 0
    for count, sighting in enumerate(sightings, start=1):
        size += _text_size(sighting)
        if count % every == 0:
            records_read(every, size)
            size = 0
        yield sighting
    records_read(count % every, size)


def _drain(items: Iterator) -> None:
    for _ in items:
        pass


# --------------------------------------------------------------------------- the worker process


def work(tasks: Connection, results: Connection) -> None:
    """The worker's main loop (``etl.parse_worker``): parse each task's file and send it back
    in messages, until the tasks end. A load that died closes the pipes: then it stops."""
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        ticket, listed_on = task
        try:
            _parse_for(ticket, listed_on, results.send)
        except BrokenPipeError:
            return


def _parse_for(ticket: Ticket, listed_on: dt.date | None, send: Callable[[tuple], None]) -> None:
    try:
        with parse_file(ticket.facts, listed_on) as parsed:
            send(("head", parsed.layout, parsed.listing, parsed.capture))
            chunk: list[Sighting] = []
            for sighting in parsed.sightings:
                if ticket.digest_only:
                    continue
                chunk.append(sighting)
                if len(chunk) == CHUNK_SIGHTINGS:
                    send(("sightings", chunk))
                    chunk = []
            if chunk:
                send(("sightings", chunk))
            send(("end", parsed.problems, parsed.tally, parsed.digest))
    except InputError as exc:
        send(("error", exc))
