"""Run records: etl_runs, the capture formats a run knows, the files already loaded, rejects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..formats.base import CaptureFormat
from ..records import Problem
from ..schema import capture_formats, etl_runs, rejects, source_files
from .writer import bulk_writer

INTERRUPTED_MESSAGE = "interrupted: the process ended before the run finished; the files it committed stay loaded"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RunCounts:
    """A run's counts: the ``etl_runs`` count columns, one field each (a test checks the two match)."""

    files_seen: int = 0
    files_loaded: int = 0
    files_skipped: int = 0
    files_refused: int = 0
    records_read: int = 0
    papers_inserted: int = 0
    papers_updated: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0


RUN_COUNT_COLUMNS = tuple(f.name for f in fields(RunCounts))


def record_capture_formats(engine: Engine, known: Iterable[CaptureFormat]) -> None:
    """Add the capture formats this papers-etl knows to ``capture_formats`` (and keep their
    descriptions current), so that ``source_files.layout`` can refer to any of them."""
    wanted = {fmt.name: fmt.description for fmt in known}
    with engine.begin() as conn:
        stored = dict(conn.execute(sa.select(capture_formats.c.name, capture_formats.c.description)).all())
        missing = [{"name": name, "description": text} for name, text in wanted.items() if name not in stored]
        if missing:
            conn.execute(capture_formats.insert(), missing)
        for name, text in wanted.items():
            if name in stored and stored[name] != text:
                conn.execute(capture_formats.update().where(capture_formats.c.name == name).values(description=text))


def start_run(engine: Engine) -> int:
    with engine.begin() as conn:
        return conn.execute(
            etl_runs.insert().values(started_at=utcnow(), status="running").returning(etl_runs.c.run_id)
        ).scalar_one()


def finish_run(engine: Engine, run_id: int, status: str, counts: dict[str, int], message: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            etl_runs.update()
            .where(etl_runs.c.run_id == run_id)
            .values(finished_at=utcnow(), status=status, message=message, **counts)
        )


def mark_abandoned_runs(engine: Engine) -> int:
    """Mark runs still 'running' as failed. Only call with the load lock held: then no such run is alive."""
    with engine.begin() as conn:
        result = conn.execute(
            etl_runs.update().where(etl_runs.c.status == "running").values(status="failed", message=INTERRUPTED_MESSAGE)
        )
    return result.rowcount


def recent_runs(engine: Engine, limit: int = 20) -> list[sa.Row]:
    query = sa.select(etl_runs).order_by(etl_runs.c.run_id.desc()).limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(query))


def last_run_id(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(etl_runs.c.run_id))).scalar()


def run_with_rejects(engine: Engine, run_id: int) -> tuple[sa.Row | None, list[sa.Row]]:
    with engine.connect() as conn:
        run = conn.execute(sa.select(etl_runs).where(etl_runs.c.run_id == run_id)).first()
        found = conn.execute(sa.select(rejects).where(rejects.c.run_id == run_id).order_by(rejects.c.reject_id)).all()
    return run, found


def loaded_files(engine: Engine) -> dict[str, str | None]:
    """sha256 -> parse digest of every file loaded, read once per run (25,000 files are about 3 MB)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(source_files.c.sha256, source_files.c.parse_digest))
        return {sha256: digest for sha256, digest in rows}


def record_problems(conn: Connection, run_id: int, path: str, problems: Iterable[Problem]) -> None:
    """Write rejects on their own (a file refused whole, or left unchanged by --force)."""
    bulk_writer(conn).append(rejects, reject_rows(run_id, path, problems))


def reject_rows(run_id: int, path: str, problems: Iterable[Problem]) -> list[dict]:
    # Problem's fields (level, reason, line_no, excerpt) are the rejects columns.
    return [{"run_id": run_id, "path": path, **asdict(p)} for p in problems]
