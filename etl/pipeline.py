"""The orchestrator: discover -> fingerprint -> stream (extract, transform) -> load, one file at a time.

``run_load`` is what ``papers-etl load`` calls, ``check_load`` what ``--dry-run``
calls. A file that cannot be used is refused (a ``rejects`` row at level
``file``) and the other files still load.

Each file is read twice, in chunks, never whole: a first pass hashes it (a
file whose sha256 is already loaded is skipped without being parsed; the
loaded sha256 values are read once per run), a second pass decodes, parses
and transforms it (``etl.parsing``) as a stream of events (``etl.events``:
the file's head, batches of sightings, its end with its problems and digest)
that the load consumes inside the file's own savepoint (``load.RunWriter``
commits the files written about every second). Memory therefore stays flat whatever the size of
the file; a bad byte or a parser failure half way rolls the file back.

Parsing runs ahead of the load, in a second process when the machine has
more than one core: while file N is written, files N+1… are parsed. Files are
still loaded one at a time, in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from . import formats, load, locks
from .db import current_revision, database_errors, database_files, ensure_schema, head_revision, redact, safe_url
from .errors import DatabaseBusy, DatabaseError, InputError, LockNotAcquired, SchemaRevisionError
from .events import FileEnd, FileHead, SightingBatch
from .extract import Discovery, Fingerprint, Selection, discover_inputs, fingerprint_file
from .parsing import Parser, Ticket
from .records import LEVEL_FILE, Problem

log = logging.getLogger(__name__)

LOADED, SKIPPED, REFUSED = "loaded", "skipped", "refused"
DRY_RUN_STATUSES = {LOADED: "would_load", SKIPPED: "already_loaded", REFUSED: "refused"}
UNCHANGED_MESSAGE = "unchanged: parses exactly as at its earlier load, so nothing was rewritten"
LOOKAHEAD_FILES = 16  # files handed to the parser ahead of their turn
HASH_THREADS, HASH_AHEAD_FILES = 2, 64  # first passes (sha256) run in threads, this far ahead
YOUNG_COLLECTION_EVERY = 50_000  # allocations between the cyclic collector's young collections, during a run


@dataclass
class FileResult:
    path: str
    status: str  # loaded | skipped | refused (with --dry-run: would be loaded | already loaded | refused)
    records: int = 0
    papers_inserted: int = 0
    papers_updated: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0
    message: str | None = None
    layout: str | None = None
    listed_on: dt.date | None = None  # the listing date its pages got (or would get, in a dry run)
    listed_on_source: str | None = None


@dataclass
class RunSummary:
    run_id: int | None  # None for a dry run, which records nothing
    status: str = "running"
    files: list[FileResult] = field(default_factory=list)
    message: str | None = None
    dry_run: bool = False
    ignored: int = 0  # files in the folders and globs given that --include / --exclude left out

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def _total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def run_counts(self) -> load.RunCounts:
        return load.RunCounts(
            files_seen=len(self.files),
            files_loaded=self._count(LOADED),
            files_skipped=self._count(SKIPPED),
            files_refused=self._count(REFUSED),
            records_read=self._total("records") + self._total("records_rejected"),
            papers_inserted=self._total("papers_inserted"),
            papers_updated=self._total("papers_updated"),
            records_rejected=self._total("records_rejected"),
            fields_rejected=self._total("fields_rejected"),
        )

    @property
    def counts(self) -> dict[str, int]:
        """The etl_runs count columns, by name."""
        return asdict(self.run_counts)

    @property
    def unchanged(self) -> int:
        """Files of a --force run left as they were, because they parse exactly as at their earlier load."""
        return sum(1 for f in self.files if f.status == LOADED and f.message == UNCHANGED_MESSAGE)

    @property
    def duplicates(self) -> int:
        """Records loaded that were a paper already known (in the database or earlier in the run)."""
        return self._total("records") - self._total("papers_inserted")

    @property
    def refused(self) -> list[FileResult]:
        return [f for f in self.files if f.status == REFUSED]

    @property
    def rejects(self) -> int:
        """Records and fields rejected in loaded files (refused files not included)."""
        return self._total("records_rejected") + self._total("fields_rejected")

    def final_status(self) -> str:
        return "partial" if self.refused or self.rejects else "succeeded"

    def as_dict(self) -> dict:
        """A JSON-ready summary (``papers-etl load --json``)."""
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "status": self.status,
            "message": self.message,
            **self.counts,
            "files_unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "rejects": self.rejects,
            "files_ignored": self.ignored,
            "files": [self._file_dict(f) for f in self.files],
        }

    def _file_dict(self, result: FileResult) -> dict:
        record = asdict(result)
        record["listed_on"] = result.listed_on.isoformat() if result.listed_on else None
        if self.dry_run:  # what would happen, not what did
            record["status"] = DRY_RUN_STATUSES[result.status]
        return record


class Progress:
    """What a load reports while it works. The default does nothing; the CLI draws a progress bar."""

    def start(self, files: list[Path]) -> None:
        """The files found, before the first is read."""

    def file_started(self, path: Path) -> None:
        """A file is about to be read."""

    def records_read(self, count: int, size: int = 0) -> None:
        """``count`` more records of the current file were parsed, ``size`` characters of text in all."""

    def file_done(self, result: FileResult) -> None:
        """A file was loaded, skipped or refused."""


@dataclass(frozen=True)
class _Job:
    """What every file of one run (or dry run) shares."""

    engine: Engine
    run_id: int | None
    listed_on: dt.date | None
    force: bool
    progress: Progress
    loaded: dict[str, str | None]  # sha256 -> parse digest of the files loaded (kept up to date by the run)
    writer: load.RunWriter | None = None  # None for a dry run, which writes nothing
    dry_run_keys: _SeenKeys | None = None  # a dry run: the deduplication keys seen so far (estimate of new papers)

    @property
    def dry_run(self) -> bool:
        return self.run_id is None


def run_load(
    engine: Engine,
    paths: Iterable[str | Path],
    listed_on: dt.date | None = None,
    *,
    force: bool = False,
    wait_seconds: float = 0.0,
    progress: Progress | None = None,
    parse_process: bool | None = None,
    selection: Selection | None = None,
) -> RunSummary:
    """Load capture files (files, folders, globs) into the database behind ``engine``.

    Holds the database's load lock for the whole run (LockNotAcquired after
    ``wait_seconds``). ``force`` reloads files already loaded, replacing their
    earlier load. Raises NoInputError when a path matches nothing (before
    anything is written), DatabaseError when the database fails (the files
    loaded until then stay loaded and the run is marked failed).
    ``parse_process``: parse in a second process while this one writes (None:
    when the machine has more than one core). ``selection``: which files of
    folders and globs are read (--include / --exclude).
    """
    found = _discover(engine, paths, selection)
    with locks.load_lock(engine, wait_seconds):
        try:
            ensure_schema(engine)
            with database_errors(engine.url):
                abandoned = load.mark_abandoned_runs(engine)
                load.record_capture_formats(engine, formats.formats())
                summary = RunSummary(run_id=load.start_run(engine), ignored=found.ignored)
        except DatabaseBusy as exc:  # another program writes to the SQLite file: nothing was written
            raise LockNotAcquired(f"{exc} (waited {wait_seconds:g}s)") from None
        if abandoned:
            log.warning("%d earlier run(s) had been interrupted; marked failed", abandoned)
        written: list[FileResult] = []  # since the last commit; in the summary once committed
        writer = load.RunWriter(engine, on_commit=lambda: _committed(written, summary), on_lost=written.clear)
        job = _Job(engine, summary.run_id, listed_on, force, progress or Progress(), _loaded_files(engine), writer)
        try:
            with Parser(listed_on, in_process=not _use_parse_process(parse_process)) as parser, fewer_collections():
                _process_all(job, found.entries, written.append, parser)
            with database_errors(engine.url):
                writer.finish()
        except (Exception, KeyboardInterrupt) as exc:
            # The run row says what happened, whatever stopped the run; files written before stay.
            writer.finish(quietly=True)
            summary.status, summary.message = "failed", _failure_message(exc)
            _finish_quietly(engine, summary)
            raise
        summary.status = summary.final_status()
        with database_errors(engine.url):
            load.finish_run(engine, summary.run_id, summary.status, summary.counts)
    return summary


def _use_parse_process(choice: bool | None) -> bool:
    if choice is not None:
        return choice
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


def check_load(
    engine: Engine,
    paths: Iterable[str | Path],
    listed_on: dt.date | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
    selection: Selection | None = None,
) -> RunSummary:
    """``--dry-run``: read, parse and validate every file as a load would, and write nothing.

    The database is only read (which files are already loaded); a SQLite file
    that does not exist is not created. No lock, no run row, no rejects rows.
    """
    found = _discover(engine, paths, selection)
    summary = RunSummary(run_id=None, dry_run=True, ignored=found.ignored)
    loaded = _loaded_files_read_only(engine)
    seen = _SeenKeys(engine if _has_tables(engine) else None)
    job = _Job(engine, None, listed_on, force, progress or Progress(), loaded, dry_run_keys=seen)
    with Parser(listed_on, in_process=True) as parser, fewer_collections():  # nothing to overlap with: parse here
        _process_all(job, found.entries, summary.files.append, parser)
    summary.status = summary.final_status()
    return summary


def _discover(engine: Engine, paths: Iterable[str | Path], selection: Selection | None) -> Discovery:
    """The run's inputs; the database's own files are never among them."""
    selection = selection or Selection()
    protected = (*selection.protected, *database_files(engine))
    return discover_inputs(paths, dataclasses.replace(selection, protected=protected))


def rebuild(engine: Engine) -> load.RebuildCounts:
    """Re-derive papers and paper_links from the raw text kept in listings (after the rules change).

    Holds the load lock: a rebuild and a load never run at once (LockNotAcquired otherwise).
    """
    with locks.load_lock(engine):
        if current_revision(engine) is None:  # never build a schema just to rebuild nothing
            raise SchemaRevisionError(
                f"{safe_url(engine.url)} is not a papers-etl database (it has no schema revision); "
                "check --db: rebuild works on a database that `papers-etl load` filled"
            )
        ensure_schema(engine)
        with database_errors(engine.url), fewer_collections():
            return load.rebuild_papers(engine)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, tuned for the length of a run, then put back.

    A load keeps many small objects alive for a while (the papers kept for reading back,
    a batch's plan, the parsed sightings ahead), and the collector's default (a young
    collection every 700 allocations, every tenth of them also scanning the older ones)
    kept scanning them: 4.0 s of the main process's CPU in a load of the benchmark's 1e5
    corpus. So the objects made before the run (modules, the engine) are frozen out of
    every collection, and young collections come every YOUNG_COLLECTION_EVERY allocations
    (0.14 s in that load). Cycles are still collected, a little later; what is not in a
    cycle is freed as always, when its last reference goes. A caller that froze objects
    itself (a server that forks workers) keeps them frozen: then nothing is frozen here,
    since unfreezing at the end would unfreeze the caller's too."""
    thresholds = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freezing:
            gc.unfreeze()


def _process_all(job: _Job, files: list[Path | InputError], done: Callable[[FileResult], None], parser: Parser) -> None:
    job.progress.start(files)
    for planned in _planned(job, files, parser):
        job.progress.file_started(planned.path)
        result = _process_file(job, planned, parser)
        done(result)
        log.info("%s: %s (%d records)%s", result.path, result.status, result.records, _suffix(result.message))
        job.progress.file_done(result)
        if job.writer is not None:
            with database_errors(job.engine.url):
                job.writer.commit_if_due()


def _committed(written: list[FileResult], summary: RunSummary) -> None:
    """The files written since the last commit are now in the database (and in the run's counts)."""
    summary.files.extend(written)
    written.clear()


def _suffix(message: str | None) -> str:
    return f": {message}" if message else ""


def _failure_message(exc: BaseException) -> str:
    """What etl_runs.message says (read-only roles read it: no credential in it)."""
    if not str(exc):
        return f"stopped by {type(exc).__name__}"
    return redact(str(exc) if isinstance(exc, DatabaseError) else f"{type(exc).__name__}: {exc}")


def _finish_quietly(engine: Engine, summary: RunSummary) -> None:
    """Record a failed run if the database still answers; the original error matters more."""
    try:
        with database_errors(engine.url):
            load.finish_run(engine, summary.run_id, summary.status, summary.counts, summary.message)
    except DatabaseError:
        log.warning("run %s could not be marked failed", summary.run_id)


# --------------------------------------------------------------------------- "already loaded"


def _loaded_files(engine: Engine) -> dict[str, str | None]:
    with database_errors(engine.url):
        return load.loaded_files(engine)


def _loaded_files_read_only(engine: Engine) -> dict[str, str | None]:
    """For a dry run: never create a database (or its schema) just to ask."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or not Path(database).exists()):
        return {}
    current = current_revision(engine)
    if current is None:
        return {}
    if current != head_revision():
        ensure_schema(engine)  # raises SchemaRevisionError with the fix (a database at head returned above)
    return _loaded_files(engine)


def _has_tables(engine: Engine) -> bool:
    """A dry run reads stored keys only from a database that has papers-etl's tables."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or not Path(database).exists()):
        return False
    return current_revision(engine) is not None


class _SeenKeys:
    """A dry run's estimate of the papers a load would insert: sightings whose arXiv id, or without one whose
    title key and abstract key (the deduplication's blocking keys), neither a stored listing nor an earlier
    sighting of the run has.
    A dry run does not cluster, so two sightings whose keys differ but that the load would find to be the
    same paper (a retitled abstract) count twice: the load can insert fewer."""

    def __init__(self, engine: Engine | None):
        self.engine = engine
        # The run's keys as 64-bit hashes (half the memory of the strings; a collision only makes the estimate
        # one paper lower): a dry run of a large file keeps one entry per paper, never its text.
        self.titles: set[int] = set()
        self.abstracts: set[int] = set()
        self.ids: set[int] = set()

    def new_papers(self, events: Iterable[SightingBatch | FileEnd]) -> tuple[int, FileEnd]:
        """Of a file's sightings (its events after its head), how many no stored listing nor earlier sighting
        knows; and the file's end. Their keys are checked load.CHUNK_ROWS at a time, as the batches come, so
        that memory holds one chunk of keys (never the file's sightings) besides the run's sets."""
        new, keys = 0, []
        for event in events:
            if isinstance(event, FileEnd):  # the last event
                return new + (self._new_in(keys) if keys else 0), event
            keys.extend((s.paper.title_key, s.paper.abstract_key, s.paper.arxiv_id) for s in event.sightings)
            while len(keys) >= load.CHUNK_ROWS:
                new += self._new_in(keys[: load.CHUNK_ROWS])
                del keys[: load.CHUNK_ROWS]
        raise ValueError("a file's events stopped before its end")

    def _new_in(self, keys: list[tuple[str, str, str | None]]) -> int:
        stored: tuple[set[str], set[str], set[str]] = (set(), set(), set())
        if self.engine is not None:
            with database_errors(self.engine.url):
                stored = load.known_keys(
                    self.engine,
                    (title for title, _, _ in keys),
                    (abstract for _, abstract, _ in keys if abstract),
                    (arxiv_id for _, _, arxiv_id in keys if arxiv_id),
                )
        stored_titles, stored_abstracts, stored_ids = stored
        new = 0
        for title_key, abstract_key, arxiv_id in keys:
            title, abstract = hash(title_key), hash(abstract_key)
            if arxiv_id:  # an id decides alone (etl.dedup)
                known = hash(arxiv_id) in self.ids or arxiv_id in stored_ids
                self.ids.add(hash(arxiv_id))
            else:
                seen_abstract = abstract in self.abstracts or abstract_key in stored_abstracts
                known = title in self.titles or title_key in stored_titles or bool(abstract_key and seen_abstract)
            new += not known
            self.titles.add(title)
            if abstract_key:
                self.abstracts.add(abstract)
        return new


# --------------------------------------------------------------------------- planning ahead


@dataclass
class _Planned:
    """A file as seen before its turn: fingerprinted, and its parsing maybe started."""

    path: Path
    fingerprint: Fingerprint | None = None
    refused: InputError | None = None
    ticket: Ticket | None = None


def _planned(job: _Job, files: list[Path | InputError], parser: Parser) -> Iterator[_Planned]:
    """The files in order, each fingerprinted and (when it will be parsed) submitted to the
    parser up to LOOKAHEAD_FILES ahead of its turn, so parsing overlaps the load."""
    ahead: deque[_Planned] = deque()
    fingerprints = _fingerprinted(files)
    submitted: set[str] = set()
    while True:
        while len(ahead) < LOOKAHEAD_FILES and (found := next(fingerprints, None)) is not None:
            ahead.append(_plan(job, *found, parser, submitted))
        if not ahead:
            return
        yield ahead.popleft()


def _fingerprinted(files: list[Path | InputError]) -> Iterator[tuple[Path, Fingerprint | InputError]]:
    """Each file's first pass (sha256), in order, hashed HASH_THREADS at a time (hashlib
    lets go of the GIL): a re-run that skips every file is mostly this. Inputs refused when
    they were found (a folder that cannot be read…) come through as their error."""
    pool = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="papers-etl-hash")
    ahead: deque[tuple[Path, Future]] = deque()
    pending = iter(files)
    try:
        while True:
            while len(ahead) < HASH_AHEAD_FILES and (path := next(pending, None)) is not None:
                if isinstance(path, InputError):
                    ahead.append((Path(path.path), _settled(path)))
                    continue
                ahead.append((path, pool.submit(_fingerprint_or_error, path)))
            if not ahead:
                return
            path, future = ahead.popleft()
            yield path, future.result()
    finally:
        pool.shutdown(cancel_futures=True)  # a run that stops early does not hash the files ahead


def _settled(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _fingerprint_or_error(path: Path) -> Fingerprint | InputError:
    try:
        return fingerprint_file(path)
    except InputError as exc:
        return exc


def _plan(job: _Job, path: Path, found: Fingerprint | InputError, parser: Parser, submitted: set[str]) -> _Planned:
    if isinstance(found, InputError):
        return _Planned(path, refused=found)
    planned = _Planned(path, found)
    if found.sha256 in submitted or (not job.force and found.sha256 in job.loaded):
        return planned  # skipped, or a copy of a file earlier in this run: decided at its turn
    submitted.add(found.sha256)
    digest_only = _digest_suffices(job, found)
    if digest_only and parser.runs_ahead and len(submitted) % 2 == 0:
        # A --force run that finds files unchanged only parses: this process parses every
        # other file itself, at its turn, while the worker parses the next ones.
        return planned
    planned.ticket = parser.submit(found, digest_only=digest_only)
    return planned


def _digest_suffices(job: _Job, fingerprint: Fingerprint) -> bool:
    """--force of a file whose earlier load recorded a digest: parse it, compare, and only
    reload it when it now parses differently."""
    return job.force and not job.dry_run and job.loaded.get(fingerprint.sha256) is not None


# --------------------------------------------------------------------------- one file


def _process_file(job: _Job, planned: _Planned, parser: Parser) -> FileResult:
    name = str(planned.path)
    try:
        if planned.refused is not None:
            raise planned.refused
        fingerprint = planned.fingerprint
        if not job.force and fingerprint.sha256 in job.loaded:
            return FileResult(name, SKIPPED, message="already loaded (same sha256)")
        if planned.ticket is not None:
            digest_only = planned.ticket.digest_only
            parsing = parser.receive(planned.ticket, job.progress.records_read)
        else:
            digest_only = _digest_suffices(job, fingerprint)
            parsing = parser.parse_now(fingerprint, digest_only, job.progress.records_read)
        with parsing as events:
            head = next(events)
            if digest_only:  # no batches: the file's end follows its head
                return _reload_if_changed(job, parser, head, next(events))
            return _load_events(job, head, events)
    except InputError as exc:
        if not job.dry_run:
            with database_errors(job.engine.url), job.writer.file() as conn:
                load.record_problems(conn, job.run_id, name, [Problem(LEVEL_FILE, exc.reason, exc.line_no)])
        return FileResult(name, REFUSED, message=str(exc.at(name)))


def _reload_if_changed(job: _Job, parser: Parser, head: FileHead, end: FileEnd) -> FileResult:
    """load --force of a file loaded before: reload it only when it parses differently now."""
    fingerprint = head.fingerprint
    if end.digest == job.loaded.get(fingerprint.sha256):
        return _unchanged(job, head, end)
    with parser.parse_now(fingerprint, False, _already_counted) as events:
        return _load_events(job, next(events), events)


def _already_counted(records: int, size: int) -> None:
    """Progress of a file parsed a second time: its records were counted the first time."""


def _load_events(job: _Job, head: FileHead, events: Iterator[SightingBatch | FileEnd]) -> FileResult:
    """Load the file whose head this is from the rest of its events."""
    if job.dry_run:  # only count the papers a load would insert
        new_papers, end = job.dry_run_keys.new_papers(events)
        return _loaded(head, end, load.FileCounts(papers_inserted=new_papers))
    with database_errors(job.engine.url), job.writer.file() as conn:
        counts, end = load.load_file(conn, job.run_id, _source_file(head), events, replace=job.force)
    job.writer.grew(counts.records)
    job.loaded[head.fingerprint.sha256] = end.digest
    return _loaded(head, end, counts)


def _source_file(head: FileHead) -> load.SourceFile:
    fingerprint, capture = head.fingerprint, head.capture
    return load.SourceFile(
        path=str(fingerprint.path),
        sha256=fingerprint.sha256,
        size_bytes=fingerprint.size_bytes,
        layout=head.layout,
        listed_on=head.listing_date.value,
        listed_on_source=head.listing_date.source,
        page_url=capture.page_url,
        page_kind=capture.page_kind,
        captured_at=capture.captured_at,
        modified_at=dt.datetime.fromtimestamp(fingerprint.mtime, dt.UTC),
    )


def _unchanged(job: _Job, head: FileHead, end: FileEnd) -> FileResult:
    """--force of a file that parses exactly as at its earlier load: its rows are already
    what a reload would write. Only its problems are recorded again, for this run."""
    with database_errors(job.engine.url), job.writer.file() as conn:
        load.record_problems(conn, job.run_id, str(head.fingerprint.path), end.problems)
    return _loaded(head, end, load.FileCounts(), message=UNCHANGED_MESSAGE)


def _loaded(head: FileHead, end: FileEnd, counts: load.FileCounts, message: str | None = None) -> FileResult:
    """The result of a file loaded (or, in a dry run, that would be): its tally, and what the load changed."""
    tally = end.tally
    return FileResult(
        str(head.fingerprint.path),
        LOADED,
        records=tally.records,
        papers_inserted=counts.papers_inserted,
        papers_updated=counts.papers_updated,
        records_rejected=tally.records_rejected,
        fields_rejected=tally.fields_rejected + len(counts.disagreements),
        message=message,
        layout=head.layout,
        listed_on=head.listing_date.value,
        listed_on_source=head.listing_date.source,
    )
