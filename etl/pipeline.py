"""The orchestrator: discover -> read -> extract -> transform -> load, one file at a time.

``run_load`` is what ``papers-etl load`` calls. A file that cannot be used is
refused (a ``rejects`` row at level ``file``) and the other files still load.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from . import load
from .db import database_errors, ensure_schema
from .errors import DatabaseError, InputError
from .extract import Capture, decode_capture, discover, parse_page, read_capture
from .records import LEVEL_FIELD, LEVEL_FILE, LEVEL_RECORD, Problem
from .transform import resolve_listed_on, transform_record

log = logging.getLogger(__name__)

LOADED, SKIPPED, REFUSED = "loaded", "skipped", "refused"


@dataclass
class FileResult:
    path: str
    status: str  # loaded | skipped | refused
    records: int = 0
    papers_inserted: int = 0
    papers_updated: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0
    message: str | None = None


@dataclass
class RunSummary:
    run_id: int
    status: str = "running"
    files: list[FileResult] = field(default_factory=list)
    message: str | None = None

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


def run_load(
    engine: Engine,
    paths: Iterable[str | Path],
    listed_on: dt.date | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> RunSummary:
    """Load capture files (files, folders, globs) into the database behind ``engine``.

    Raises NoInputError when a path matches nothing (before anything is
    written), DatabaseError when the database fails (the files loaded until
    then stay loaded and the run is marked failed).
    """
    files = discover(paths)
    ensure_schema(engine)
    with database_errors(engine.url):
        summary = RunSummary(run_id=load.start_run(engine))
    try:
        for path in files:
            result = _load_one(engine, summary.run_id, path, listed_on)
            summary.files.append(result)
            log.info("%s: %s (%d records)", result.path, result.status, result.records)
            if on_file:
                on_file(result)
    except (Exception, KeyboardInterrupt) as exc:
        # The run row says what happened, whatever stopped the run.
        summary.status, summary.message = "failed", _failure_message(exc)
        _finish_quietly(engine, summary)
        raise
    summary.status = summary.final_status()
    with database_errors(engine.url):
        load.finish_run(engine, summary.run_id, summary.status, summary.counts)
    return summary


def rebuild(engine: Engine) -> load.RebuildCounts:
    """Re-derive papers and paper_links from the raw text kept in listings (after the rules change)."""
    ensure_schema(engine)
    with database_errors(engine.url):
        return load.rebuild_papers(engine)


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


def _load_one(engine: Engine, run_id: int, path: Path, listed_on: dt.date | None) -> FileResult:
    name = str(path)
    try:
        capture = read_capture(path)
        with database_errors(engine.url):
            if load.is_loaded(engine, capture.sha256):
                return FileResult(name, SKIPPED, message="already loaded (same sha256)")
        parsed = _parse_guarded(capture, listed_on)
        return _load_parsed(engine, run_id, parsed)
    except InputError as exc:
        with database_errors(engine.url):
            load.record_problems(engine, run_id, name, [Problem(LEVEL_FILE, exc.reason, exc.line_no)])
        return FileResult(name, REFUSED, message=str(exc.at(name)))


@dataclass
class _ParsedFile:
    source: load.SourceFile
    sightings: list[load.Sighting]
    problems: list[Problem]


def _parse_guarded(capture: Capture, listed_on: dt.date | None) -> _ParsedFile:
    """Parse a file; an unexpected parser failure refuses this file only, never the run."""
    try:
        return _parse(capture, listed_on)
    except InputError:
        raise
    except Exception as exc:
        log.info("parser failure on %s", capture.path, exc_info=True)
        raise InputError(
            f"unexpected parser failure ({type(exc).__name__}: {exc}); please report it with this file", capture.path
        ) from exc


def _parse(capture: Capture, listed_on: dt.date | None) -> _ParsedFile:
    page = parse_page(decode_capture(capture.data, capture.path))
    listing = resolve_listed_on(page.header_date, capture.path.name, capture.mtime, listed_on, page.header_date_line_no)
    problems = list(page.problems)
    if listing.problem:
        problems.append(listing.problem)
    sightings = []
    for record in page.records:
        paper, record_problems = transform_record(record)
        problems.extend(record_problems)
        if paper is not None:
            sightings.append(load.Sighting(record, paper))
    source = load.SourceFile(
        path=str(capture.path),
        sha256=capture.sha256,
        size_bytes=capture.size_bytes,
        layout=page.layout,
        listed_on=listing.value,
        listed_on_source=listing.source,
    )
    return _ParsedFile(source, sightings, problems)


def _load_parsed(engine: Engine, run_id: int, parsed: _ParsedFile) -> FileResult:
    problems = parsed.problems
    with database_errors(engine.url):
        counts = load.load_file(engine, run_id, parsed.source, parsed.sightings, problems)
    return FileResult(
        parsed.source.path,
        LOADED,
        records=len(parsed.sightings),
        papers_inserted=counts.papers_inserted,
        papers_updated=counts.papers_updated,
        records_rejected=sum(1 for p in problems if p.level == LEVEL_RECORD),
        fields_rejected=sum(1 for p in problems if p.level == LEVEL_FIELD) + len(counts.disagreements),
    )
