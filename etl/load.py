"""Load: the only module that writes to the database.

Each capture file is loaded in one transaction (source_files, papers,
paper_links, listings and its field-level rejects together), so a file is in
the database entirely or not at all. Writes are batched: chunked executemany
through SQLAlchemy Core, and COPY for the append-only tables on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from .records import Paper, Problem, RawRecord
from .schema import etl_runs, listings, paper_links, papers, rejects, source_files
from .transform import merge_sightings

CHUNK_ROWS = 500  # rows per executemany batch / IN (...) list


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def chunks(items: Sequence, size: int = CHUNK_ROWS) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class SourceFile:
    """What is recorded about a capture file in source_files."""

    path: str
    sha256: str
    size_bytes: int
    layout: str
    listed_on: dt.date | None
    listed_on_source: str | None


@dataclass(frozen=True)
class Sighting:
    """A record and the paper it became."""

    record: RawRecord
    paper: Paper


@dataclass(frozen=True)
class FileCounts:
    papers_inserted: int
    papers_updated: int


# --------------------------------------------------------------------------- runs


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


def recent_runs(engine: Engine, limit: int = 20) -> list[sa.Row]:
    query = sa.select(etl_runs).order_by(etl_runs.c.run_id.desc()).limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(query))


def run_with_rejects(engine: Engine, run_id: int) -> tuple[sa.Row | None, list[sa.Row]]:
    with engine.connect() as conn:
        run = conn.execute(sa.select(etl_runs).where(etl_runs.c.run_id == run_id)).first()
        found = conn.execute(sa.select(rejects).where(rejects.c.run_id == run_id).order_by(rejects.c.reject_id)).all()
    return run, found


def is_loaded(engine: Engine, sha256: str) -> bool:
    with engine.connect() as conn:
        query = sa.select(source_files.c.source_file_id).where(source_files.c.sha256 == sha256)
        return conn.execute(query).first() is not None


def record_problems(engine: Engine, run_id: int, path: str, problems: Iterable[Problem]) -> None:
    """Write rejects on their own (for a file that is refused whole)."""
    with engine.begin() as conn:
        _append(conn, rejects, _reject_rows(run_id, path, problems))


def _reject_rows(run_id: int, path: str, problems: Iterable[Problem]) -> list[dict]:
    # Problem's fields (level, reason, line_no, excerpt) are the rejects columns.
    return [{"run_id": run_id, "path": path, **asdict(p)} for p in problems]


# --------------------------------------------------------------------------- one file


def load_file(
    engine: Engine,
    run_id: int,
    source: SourceFile,
    sightings: Iterable[Sighting],
    problems: list[Problem],
    replace: bool = False,
) -> FileCounts:
    """Load one parsed file in a single transaction and return what it changed.

    ``sightings`` may be a generator: it is consumed in batches of CHUNK_ROWS, so
    memory does not grow with the file; an exception it raises rolls the whole
    file back. ``problems`` is read once it is exhausted. ``replace`` (--force)
    first removes the file's previous load (its source_files row and listings).
    """
    now = utcnow()
    inserted = updated = records = 0
    with engine.begin() as conn:
        if replace:
            _delete_previous_load(conn, source.sha256)
        source_file_id = conn.execute(
            source_files.insert()
            .values(**asdict(source), record_count=0, run_id=run_id, loaded_at=now)
            .returning(source_files.c.source_file_id)
        ).scalar_one()
        for batch in _batches(sightings):
            counts = _load_batch(conn, source_file_id, batch, now)
            inserted += counts.papers_inserted
            updated += counts.papers_updated
            records += len(batch)
        conn.execute(
            source_files.update().where(source_files.c.source_file_id == source_file_id).values(record_count=records)
        )
        _append(conn, rejects, _reject_rows(run_id, source.path, problems))
    return FileCounts(papers_inserted=inserted, papers_updated=updated)


def _batches(items: Iterable, size: int = CHUNK_ROWS) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _load_batch(conn: Connection, source_file_id: int, sightings: list[Sighting], now: dt.datetime) -> FileCounts:
    merged = _merge_in_file(sightings)
    counts, ids = _upsert_papers(conn, merged, now)
    _insert_ignoring_duplicates(
        conn,
        paper_links,
        [
            {"paper_id": ids[key], "url": link.url, "kind": link.kind, "repo": link.repo}
            for key, paper in merged.items()
            for link in paper.links
        ],
    )
    _append(conn, listings, [_listing_row(source_file_id, ids, s) for s in sightings])
    return counts


def _merge_in_file(sightings: Iterable[Sighting]) -> dict[str, Paper]:
    merged: dict[str, Paper] = {}
    for sighting in sightings:
        paper = sighting.paper
        kept = merged.get(paper.title_key)
        merged[paper.title_key] = paper if kept is None else merge_sightings(kept, paper)
    return merged


def _upsert_papers(conn: Connection, merged: dict[str, Paper], now: dt.datetime) -> tuple[FileCounts, dict[str, int]]:
    """Insert new papers, fill missing fields of known ones; return the counts and every key's paper_id."""
    existing = _existing_papers(conn, list(merged))
    ids = {key: paper_id for key, (paper_id, _) in existing.items()}
    new_rows, updates = [], []
    for key, paper in merged.items():
        if key not in existing:
            new_rows.append(_paper_row(paper, now))
            continue
        stored = existing[key][1]
        combined = merge_sightings(stored, paper)
        if (combined.published_on, combined.author_count) != (stored.published_on, stored.author_count):
            updates.append(
                {"key": key, "published_on": combined.published_on, "author_count": combined.author_count, "now": now}
            )
    _insert_ignoring_duplicates(conn, papers, new_rows, conflict_columns=["title_key"])
    if updates:
        conn.execute(
            papers.update()
            .where(papers.c.title_key == sa.bindparam("key"))
            .values(
                published_on=sa.bindparam("published_on"),
                author_count=sa.bindparam("author_count"),
                updated_at=sa.bindparam("now"),
            ),
            updates,
        )
    ids.update(_paper_ids(conn, [row["title_key"] for row in new_rows]))
    return FileCounts(papers_inserted=len(new_rows), papers_updated=len(updates)), ids


def _existing_papers(conn: Connection, keys: list[str]) -> dict[str, tuple[int, Paper]]:
    columns = (
        papers.c.paper_id,
        papers.c.title,
        papers.c.title_key,
        papers.c.abstract,
        papers.c.published_on,
        papers.c.author_count,
    )
    found: dict[str, tuple[int, Paper]] = {}
    for chunk in chunks(keys):
        for row in conn.execute(sa.select(*columns).where(papers.c.title_key.in_(chunk))):
            paper = Paper(row.title, row.title_key, row.abstract, row.published_on, row.author_count)
            found[row.title_key] = (row.paper_id, paper)
    return found


def _paper_ids(conn: Connection, keys: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in chunks(keys):
        query = sa.select(papers.c.title_key, papers.c.paper_id).where(papers.c.title_key.in_(chunk))
        ids.update((key, paper_id) for key, paper_id in conn.execute(query))
    return ids


def _paper_row(paper: Paper, now: dt.datetime) -> dict:
    return {
        "title": paper.title,
        "title_key": paper.title_key,
        "abstract": paper.abstract,
        "published_on": paper.published_on,
        "author_count": paper.author_count,
        "created_at": now,
        "updated_at": now,
    }


def _listing_row(source_file_id: int, ids: dict[str, int], sighting: Sighting) -> dict:
    record = sighting.record
    return {
        "source_file_id": source_file_id,
        "position": record.position,
        "paper_id": ids[sighting.paper.title_key],
        "line_no": record.line_no,
        "raw_title": record.raw_title,
        "raw_abstract": record.raw_abstract,
        "raw_meta": record.raw_meta,
    }


# --------------------------------------------------------------------------- bulk writes


def _insert_ignoring_duplicates(
    conn: Connection, table: sa.Table, rows: list[dict], conflict_columns: list[str] | None = None
) -> None:
    """Chunked INSERT … ON CONFLICT DO NOTHING (on the primary key unless columns are named)."""
    if not rows:
        return
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    columns = conflict_columns or [c.name for c in table.primary_key.columns]
    statement = dialect_insert(table).on_conflict_do_nothing(index_elements=columns)
    for chunk in chunks(rows):
        conn.execute(statement, list(chunk))


def _append(conn: Connection, table: sa.Table, rows: list[dict]) -> None:
    """Append rows: COPY on PostgreSQL, chunked executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        for chunk in chunks(rows):
            conn.execute(table.insert(), list(chunk))
        return
    names = list(rows[0])
    driver_connection = conn.connection.driver_connection
    copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


RUN_COUNT_COLUMNS = (
    "files_seen",
    "files_loaded",
    "files_skipped",
    "files_refused",
    "records_read",
    "papers_inserted",
    "papers_updated",
    "records_rejected",
    "fields_rejected",
)


# --------------------------------------------------------------------------- issue 4: re-runs and crashes


def _delete_previous_load(conn: Connection, sha256: str) -> None:
    """--force: remove a file's earlier load (source_files row and listings) in the caller's transaction.

    Papers and links stay: other files may list them, and reloading the file
    finds them again by title_key instead of duplicating them.
    """
    previous = sa.select(source_files.c.source_file_id).where(source_files.c.sha256 == sha256)
    conn.execute(listings.delete().where(listings.c.source_file_id.in_(previous)))
    conn.execute(source_files.delete().where(source_files.c.sha256 == sha256))


INTERRUPTED_MESSAGE = "interrupted: the process ended before the run finished; the files it committed stay loaded"


def mark_abandoned_runs(engine: Engine) -> int:
    """Mark runs still 'running' as failed. Only call with the load lock held: then no such run is alive."""
    with engine.begin() as conn:
        result = conn.execute(
            etl_runs.update().where(etl_runs.c.status == "running").values(status="failed", message=INTERRUPTED_MESSAGE)
        )
    return result.rowcount
