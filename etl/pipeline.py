"""The orchestrator: discover -> fingerprint -> stream (extract, transform) -> load, one file at a time.

``run_load`` is what ``papers-etl load`` calls, ``check_load`` what ``--dry-run``
calls. A file that cannot be used is refused (a ``rejects`` row at level
``file``) and the other files still load.

Each file is read twice, in chunks, never whole: a first pass hashes it (a
file whose sha256 is already loaded is skipped without being parsed), a
second pass decodes, parses and transforms it as a generator that the load
consumes in batches inside the file's one transaction. Memory therefore stays
flat whatever the size of the file; a bad byte or a parser failure half way
rolls the file back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from . import load, locks
from .db import current_revision, database_errors, ensure_schema, head_revision
from .errors import DatabaseError, InputError
from .extract import Fingerprint, PageStream, discover, fingerprint, iter_lines, open_capture
from .records import LEVEL_FIELD, LEVEL_FILE, LEVEL_RECORD, Problem
from .transform import resolve_listed_on, transform_record

log = logging.getLogger(__name__)

LOADED, SKIPPED, REFUSED = "loaded", "skipped", "refused"
PROGRESS_EVERY_RECORDS = 200


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


@dataclass
class RunSummary:
    run_id: int | None  # None for a dry run, which records nothing
    status: str = "running"
    files: list[FileResult] = field(default_factory=list)
    message: str | None = None
    dry_run: bool = False

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def _total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def counts(self) -> dict[str, int]:
        """The etl_runs count columns."""
        return {
            "files_seen": len(self.files),
            "files_loaded": self._count(LOADED),
            "files_skipped": self._count(SKIPPED),
            "files_refused": self._count(REFUSED),
            "records_read": self._total("records") + self._total("records_rejected"),
            "papers_inserted": self._total("papers_inserted"),
            "papers_updated": self._total("papers_updated"),
            "records_rejected": self._total("records_rejected"),
            "fields_rejected": self._total("fields_rejected"),
        }

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
            "duplicates": self.duplicates,
            "rejects": self.rejects,
            "files": [asdict(f) for f in self.files],
        }


class Progress:
    """What a load reports while it works. The default does nothing; the CLI draws a progress bar."""

    def start(self, files: list[Path]) -> None:
        """The files found, before the first is read."""

    def file_started(self, path: Path) -> None:
        """A file is about to be read."""

    def records_read(self, count: int) -> None:
        """``count`` more records of the current file were parsed."""

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
    is_loaded: Callable[[str], bool]

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
) -> RunSummary:
    """Load capture files (files, folders, globs) into the database behind ``engine``.

    Holds the database's load lock for the whole run (LockNotAcquired after
    ``wait_seconds``). ``force`` reloads files already loaded, replacing their
    earlier load. Raises NoInputError when a path matches nothing (before
    anything is written), DatabaseError when the database fails (the files
    loaded until then stay loaded and the run is marked failed).
    """
    files = discover(paths)
    with locks.load_lock(engine, wait_seconds):
        ensure_schema(engine)
        with database_errors(engine.url):
            abandoned = load.mark_abandoned_runs(engine)
            summary = RunSummary(run_id=load.start_run(engine))
        if abandoned:
            log.warning("%d earlier run(s) had been interrupted; marked failed", abandoned)
        job = _Job(engine, summary.run_id, listed_on, force, progress or Progress(), _loaded_in(engine))
        try:
            _process_all(job, files, summary)
        except (Exception, KeyboardInterrupt) as exc:
            # The run row says what happened, whatever stopped the run.
            summary.status, summary.message = "failed", _failure_message(exc)
            _finish_quietly(engine, summary)
            raise
        summary.status = summary.final_status()
        with database_errors(engine.url):
            load.finish_run(engine, summary.run_id, summary.status, summary.counts)
    return summary


def check_load(
    engine: Engine,
    paths: Iterable[str | Path],
    listed_on: dt.date | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """``--dry-run``: read, parse and validate every file as a load would, and write nothing.

    The database is only read (which files are already loaded); a SQLite file
    that does not exist is not created. No lock, no run row, no rejects rows.
    """
    files = discover(paths)
    summary = RunSummary(run_id=None, dry_run=True)
    job = _Job(engine, None, listed_on, force, progress or Progress(), _loaded_in_read_only(engine))
    _process_all(job, files, summary)
    summary.status = summary.final_status()
    return summary


def rebuild(engine: Engine) -> load.RebuildCounts:
    """Re-derive papers and paper_links from the raw text kept in listings (after the rules change).

    Holds the load lock: a rebuild and a load never run at once (LockNotAcquired otherwise).
    """
    with locks.load_lock(engine):
        ensure_schema(engine)
        with database_errors(engine.url):
            return load.rebuild_papers(engine)


def _process_all(job: _Job, files: list[Path], summary: RunSummary) -> None:
    job.progress.start(files)
    for path in files:
        job.progress.file_started(path)
        result = _process_file(job, path)
        summary.files.append(result)
        log.info("%s: %s (%d records)%s", result.path, result.status, result.records, _suffix(result.message))
        job.progress.file_done(result)


def _suffix(message: str | None) -> str:
    return f": {message}" if message else ""


def _failure_message(exc: BaseException) -> str:
    if not str(exc):
        return f"stopped by {type(exc).__name__}"
    return str(exc) if isinstance(exc, DatabaseError) else f"{type(exc).__name__}: {exc}"


def _finish_quietly(engine: Engine, summary: RunSummary) -> None:
    """Record a failed run if the database still answers; the original error matters more."""
    try:
        with database_errors(engine.url):
            load.finish_run(engine, summary.run_id, summary.status, summary.counts, summary.message)
    except DatabaseError:
        log.warning("run %s could not be marked failed", summary.run_id)


# --------------------------------------------------------------------------- "already loaded"


def _loaded_in(engine: Engine) -> Callable[[str], bool]:
    def is_loaded(sha256: str) -> bool:
        with database_errors(engine.url):
            return load.is_loaded(engine, sha256)

    return is_loaded


def _loaded_in_read_only(engine: Engine) -> Callable[[str], bool]:
    """For a dry run: never create a database (or its schema) just to ask."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or not Path(database).exists()):
        return lambda sha256: False
    current = current_revision(engine)
    if current is None:
        return lambda sha256: False
    if current != head_revision():
        ensure_schema(engine)  # raises SchemaRevisionError with the fix (a database at head returned above)
    return _loaded_in(engine)


# --------------------------------------------------------------------------- one file


def _process_file(job: _Job, path: Path) -> FileResult:
    name = str(path)
    try:
        facts = fingerprint(path)  # first pass: sha256 decides "already loaded" before any parsing
        if not job.force and job.is_loaded(facts.sha256):
            return FileResult(name, SKIPPED, message="already loaded (same sha256)")
        return _stream_file(job, facts)
    except InputError as exc:
        if not job.dry_run:
            with database_errors(job.engine.url):
                load.record_problems(job.engine, job.run_id, name, [Problem(LEVEL_FILE, exc.reason, exc.line_no)])
        return FileResult(name, REFUSED, message=str(exc.at(name)))


@dataclass
class _Tally:
    records: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.records_rejected += problem.level == LEVEL_RECORD
            self.fields_rejected += problem.level == LEVEL_FIELD


def _stream_file(job: _Job, facts: Fingerprint) -> FileResult:
    """Second pass: decode, parse and transform as a generator that the load consumes in one transaction."""
    with open_capture(facts.path) as chunks:
        hashed = _HashedChunks(chunks)
        page = _guarded(lambda: PageStream(iter_lines(hashed, facts.path)), facts.path)
        listing = resolve_listed_on(
            page.header_date, facts.path.name, facts.mtime, job.listed_on, page.header_date_line_no
        )
        problems = [listing.problem] if listing.problem else []
        tally = _Tally()
        tally.add(problems)
        sightings = _sightings(page, problems, tally, hashed, facts, job.progress)
        counts = load.FileCounts()
        if job.dry_run:
            for _ in sightings:
                pass
        else:
            source = load.SourceFile(
                path=str(facts.path),
                sha256=facts.sha256,
                size_bytes=facts.size_bytes,
                layout=page.layout,
                listed_on=listing.value,
                listed_on_source=listing.source,
            )
            with database_errors(job.engine.url):
                counts = load.load_file(job.engine, job.run_id, source, sightings, problems, replace=job.force)
    return FileResult(
        str(facts.path),
        LOADED,
        records=tally.records,
        papers_inserted=counts.papers_inserted,
        papers_updated=counts.papers_updated,
        records_rejected=tally.records_rejected,
        fields_rejected=tally.fields_rejected + len(counts.disagreements),
    )


def _sightings(
    page: PageStream,
    problems: list[Problem],
    tally: _Tally,
    hashed: _HashedChunks,
    facts: Fingerprint,
    progress: Progress,
) -> Iterator[load.Sighting]:
    """The file's papers, one at a time; ``problems`` is complete once this is exhausted."""
    try:
        for record in page.records():
            paper, found = transform_record(record)
            problems.extend(found)
            tally.add(found)
            if paper is not None:
                tally.records += 1
                if tally.records % PROGRESS_EVERY_RECORDS == 0:
                    progress.records_read(PROGRESS_EVERY_RECORDS)
                yield load.Sighting(record, paper)
        problems.extend(page.problems)
        tally.add(page.problems)
    except InputError:
        raise
    except Exception as exc:
        raise _parser_failure(exc, facts.path) from exc
    progress.records_read(tally.records % PROGRESS_EVERY_RECORDS)
    if hashed.sha256 != facts.sha256:
        raise InputError("the file changed while it was being loaded; run the load again", facts.path)


def _guarded(parse: Callable[[], PageStream], path: Path) -> PageStream:
    """An unexpected parser failure refuses this file only, never the run."""
    try:
        return parse()
    except InputError:
        raise
    except Exception as exc:
        raise _parser_failure(exc, path) from exc


def _parser_failure(exc: Exception, path: Path) -> InputError:
    log.info("parser failure on %s", path, exc_info=True)
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
