"""Load: the only module that writes to the database.

Each capture file is written in its own SAVEPOINT (source_files, papers,
paper_links, listings and its field-level rejects together), so a file is in
the database entirely or not at all; ``RunWriter`` commits the files of a run
together about every second. Writes are batched: multi-row INSERTs through the
driver on SQLite, COPY for the append-only tables on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .db import redact
from .dedup import MERGE_RULES, Disagreement, Member, blocking_keys, components, merge, sighting_rank
from .errors import DatabaseError, InputError
from .events import FileEnd, SightingBatch, rebatched
from .formats.base import CaptureFormat
from .records import LEVEL_FIELD, PAGE_UNKNOWN, Capture, CardFacts, Paper, Problem, RawRecord, Sighting, excerpt
from .schema import capture_formats, etl_runs, listings, paper_authors, paper_links, papers, rejects, source_files
from .transform import record_from_listing, transform_record, year_bound

log = logging.getLogger(__name__)

CHUNK_ROWS = 500  # rows per multi-row INSERT / executemany batch / IN (...) list
ANALYZE_MIN_ROWS = 2000  # PostgreSQL: listings written before the first ANALYZE of a run (see _PlannerStatistics)
# How often a run commits the files it wrote (see RunWriter). SQLite gains from committing
# many files at once; PostgreSQL does not (synchronous_commit is off, so a commit is cheap)
# and slows down when a transaction holds many savepoints (its subtransaction cache overflows).
COMMIT_SECONDS = {"sqlite": 1.0, "postgresql": 0.0}
BATCH_RECORDS = 5000  # sightings clustered and written together (memory stays flat for any file size)


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
    page_url: str | None = None
    page_kind: str = PAGE_UNKNOWN
    captured_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None  # the file's modification time: bounds dates printed without a year


@dataclass
class FileCounts:
    records: int = 0
    papers_inserted: int = 0
    papers_updated: int = 0
    disagreements: list[Problem] = field(default_factory=list)  # field-level, one per disagreeing sighting


# --------------------------------------------------------------------------- runs


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
    _append(conn, rejects, _reject_rows(run_id, path, problems))


def _reject_rows(run_id: int, path: str, problems: Iterable[Problem]) -> list[dict]:
    # Problem's fields (level, reason, line_no, excerpt) are the rejects columns.
    return [{"run_id": run_id, "path": path, **asdict(p)} for p in problems]


# --------------------------------------------------------------------------- transactions of a run


class RunWriter:
    """The writes of one load run: each file in a SAVEPOINT of a transaction that is
    committed when COMMIT_SECONDS have passed since it began, and at the end.

    A file is still all or nothing (its savepoint is rolled back on any error), but
    a commit per file would write the pages many small files share (index pages,
    full-text segments) again at every file: on SQLite that was a third of a load
    of small files. A failure commits the files written before it, then lets the
    error through; a killed process loses at most the last COMMIT_SECONDS of work,
    which the next run loads again (those files are not recorded as loaded).
    ``on_commit`` is called after each commit: the files written since are loaded.
    """

    def __init__(self, engine: Engine, on_commit: Callable[[], None], on_lost: Callable[[], None] = lambda: None):
        self._engine = engine
        self._on_commit = on_commit
        self._on_lost = on_lost
        self._conn: Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._began = 0.0
        self._statistics = _PlannerStatistics() if engine.dialect.name == "postgresql" else None

    @contextmanager
    def file(self) -> Iterator[Connection]:
        """A connection inside this file's savepoint."""
        conn = self._begin()
        try:
            with conn.begin_nested():
                yield conn
        except InputError:
            raise  # the file is refused (its savepoint rolled back); the others go on
        except BaseException:
            self.finish(quietly=True)  # keep what was written before the failure
            raise

    def commit_if_due(self) -> None:
        every = COMMIT_SECONDS.get(self._engine.dialect.name, 0.0)
        if self._transaction is not None and time.monotonic() - self._began >= every:
            self._commit()

    def finish(self, quietly: bool = False) -> None:
        """Commit what is written and release the connection (``quietly``: after another failure)."""
        try:
            if self._transaction is not None:
                self._commit()
            else:
                self._on_commit()  # nothing written since the last commit (files skipped): all settled
        except Exception as exc:
            if not quietly:
                raise
            # One line (the error that stopped the run says the rest); the stack at -vv.
            lost = self._conn is not None and self._conn.invalidated
            log.warning("the files written since the last commit were not saved (%s)",
                        "the connection to the database was lost" if lost else _one_line(exc))  # fmt: skip
            log.debug("why they were not saved", exc_info=True)
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._transaction = None

    def _begin(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        if self._transaction is None:
            self._transaction = self._conn.begin()
            self._began = time.monotonic()
            if self._conn.dialect.name == "postgresql":
                # A server crash may then lose this commit, never corrupt anything: its files are simply
                # not recorded as loaded and the next run loads them again. Saves a WAL flush per commit.
                self._conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        return self._conn

    def grew(self, listings_written: int) -> None:
        """A file added this many listings (the tables' statistics may need refreshing)."""
        if self._statistics is not None:
            self._statistics.grown += listings_written

    def _commit(self) -> None:
        transaction, self._transaction = self._transaction, None
        try:
            if self._conn.dialect.name == "sqlite" and not self._conn.connection.driver_connection.in_transaction:
                # SQLite ends the transaction itself on some errors (a full disk, an I/O error), and
                # COMMIT then "succeeds" with nothing to commit: the files written since were lost.
                transaction.rollback()
                raise TransactionLost("the database ended the run's transaction after an error")
            transaction.commit()
        except BaseException:
            self._on_lost()  # the files written since the last commit are not in the database
            raise
        self._on_commit()
        if self._statistics is not None:
            self._statistics.refresh_if_due(self._conn)


class TransactionLost(DatabaseError):
    """The database rolled back the run's open transaction by itself."""


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return redact(text.splitlines()[0]) if text else type(exc).__name__


@dataclass
class _PlannerStatistics:
    """ANALYZE the tables a load grows, each time they have doubled, on PostgreSQL.

    Without statistics (a new database, autovacuum off or behind) the planner takes
    ``listings.title_key IN (…500 keys…)`` for most of the table and scans it whole:
    about 50 ms a lookup at 100,000 listings, and growing. ANALYZE samples a bounded
    number of rows (about 0.1 s), and doubling keeps it to a few per backfill.
    """

    analyzed: float | None = None  # listings when last analyzed (None: not read yet)
    grown: int = 0  # listings written since

    def refresh_if_due(self, conn: Connection) -> None:
        """Between transactions: analyze when the listings written since the last time are at
        least as many as there were then."""
        if self.analyzed is None:
            with conn.begin():
                reltuples = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'listings'::regclass")
                self.analyzed = max(reltuples.scalar_one(), 0.0)  # -1: never analyzed
        if self.grown < max(ANALYZE_MIN_ROWS, self.analyzed):
            return
        with conn.begin():
            conn.exec_driver_sql("ANALYZE listings, papers, paper_links, source_files")
        self.analyzed, self.grown = self.analyzed + self.grown, 0
        log.debug("analyzed the tables at about %d listings", self.analyzed)


# --------------------------------------------------------------------------- one file


def load_file(
    conn: Connection,
    run_id: int,
    source: SourceFile,
    events: Iterable[SightingBatch | FileEnd],
    replace: bool = False,
) -> tuple[FileCounts, FileEnd]:
    """Write one parsed file through ``conn`` (in the caller's transaction); return what it changed,
    and the file's end.

    ``events`` are the file's parse after its head (``etl.events``): its batches of sightings,
    consumed as they come and written BATCH_RECORDS at a time, then its end, which gives the
    problems written to ``rejects`` (with the disagreements between sightings of one paper, level
    field), the record count and the digest stored for a later ``--force`` to compare with.
    ``replace`` (``load --force``) first removes the file's earlier load, in the same transaction.
    """
    now = utcnow()
    counts = FileCounts()
    detached = _delete_previous_load(conn, source.sha256) if replace else _Detached()
    source_file_id = conn.execute(
        source_files.insert()
        .values(**asdict(source), record_count=0, run_id=run_id, loaded_at=now)
        .returning(source_files.c.source_file_id)
    ).scalar_one()
    for event in rebatched(events, BATCH_RECORDS):
        if isinstance(event, FileEnd):  # the last event
            end = event
        else:
            _load_batch(conn, source, source_file_id, list(event.sightings), counts, now, detached)
    _delete_orphans(conn, sorted(detached.papers))
    conn.execute(
        source_files.update()
        .where(source_files.c.source_file_id == source_file_id)
        .values(record_count=end.tally.records, parse_digest=end.digest)
    )
    _append(conn, rejects, _reject_rows(run_id, source.path, [*end.problems, *counts.disagreements]))
    return counts, end


def _load_batch(
    conn: Connection,
    source: SourceFile,
    source_file_id: int,
    batch: list[Sighting],
    counts: FileCounts,
    now,
    detached: _Detached,
) -> None:
    """Cluster a batch of sightings with the stored sightings they may be, then write.

    Only stored sightings that share a blocking key with the batch are read
    (with every other sighting of their papers, which the merge needs). A new
    cluster holding a sighting that a ``--force`` reload detached from its paper
    gets that paper back (same id, same created_at) instead of a new one.
    """
    new = [Member(s.paper, _rank(source, s.record), source.path, s.record.line_no) for s in batch]
    new_ids = {id(m) for m in new}
    stored = _stored_members(conn, new)
    members = stored.members + new
    labels = components([m.paper for m in members], stored.joined, settled=len(stored.members))
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        clusters[label].append(index)
    paper_ids: dict[int, int] = {}  # cluster label -> paper_id
    new_papers: list[tuple[int, Paper]] = []
    writes = _StoredPaperWrites()
    for label, indices in clusters.items():
        new_indices = [i for i in indices if i >= len(stored.members)]
        if not new_indices:
            continue  # a stored cluster the batch did not join
        paper, disagreements = merge([members[i] for i in indices])
        counts.disagreements += [_disagreement_problem(d) for d in disagreements if id(d.member) in new_ids]
        ids = sorted({stored.paper_ids[i] for i in indices if i < len(stored.members)})
        if not ids:
            earlier = detached.claim(batch[i - len(stored.members)].record.position for i in new_indices)
            if earlier is None:
                new_papers.append((label, paper))
                continue
            paper_ids[label] = earlier
            counts.papers_updated += _stage_update(writes, earlier, paper, detached.stored(conn, earlier))
            continue
        paper_ids[label] = ids[0]
        absorbed = _absorb(conn, ids[0], ids[1:])
        updated = _stage_update(writes, ids[0], paper, stored)
        counts.papers_updated += absorbed or updated
    writes.apply(conn, now)
    paper_ids.update(_insert_papers(conn, new_papers, now))
    _append(
        conn,
        listings,
        [_listing_row(source_file_id, paper_ids[labels[len(stored.members) + i]], s) for i, s in enumerate(batch)],
    )
    counts.records += len(batch)
    counts.papers_inserted += len(new_papers)


def _rank(source: SourceFile, record: RawRecord) -> tuple:
    return sighting_rank(record.card.listed_on or source.listed_on, source.sha256, record.position)


@dataclass
class _Stored:
    members: list[Member]
    paper_ids: list[int]  # paper_id of each member
    joined: list[tuple[int, int]]  # members stored under one paper_id
    rows: dict[int, sa.Row]  # paper_id -> current papers row
    links: dict[int, set[tuple]]  # paper_id -> its current (url, kind, repo) links
    authors: dict[int, tuple] = field(default_factory=dict)  # paper_id -> its (name, hf_user) in order


def _stored_members(conn: Connection, new: list[Member]) -> _Stored:
    title_keys = sorted({m.paper.title_key for m in new})
    abstract_keys = sorted({key[2:] for m in new for key in blocking_keys(m.paper) if key.startswith("a:")})
    arxiv_ids = sorted({m.paper.arxiv_id for m in new if m.paper.arxiv_id})
    candidate_ids: set[int] = set()
    lookups = (
        (_PAPERS_BY_TITLE_KEY, title_keys),
        (_PAPERS_BY_ABSTRACT_KEY, abstract_keys),
        (_PAPERS_BY_ARXIV_ID, arxiv_ids),
    )
    for statement, keys in lookups:
        for chunk in chunks(keys):
            candidate_ids.update(conn.execute(statement, {"keys": chunk}).scalars())
    stored = _Stored([], [], [], {}, defaultdict(set))
    if not candidate_ids:
        return stored
    ids = sorted(candidate_ids)
    first_of_paper: dict[int, int] = {}
    for row in _sightings_of(conn, ids):
        index = len(stored.members)
        stored.members.append(_member_from_row(row))
        stored.paper_ids.append(row.paper_id)
        if row.paper_id in first_of_paper:
            stored.joined.append((first_of_paper[row.paper_id], index))
        else:
            first_of_paper[row.paper_id] = index
    for chunk in chunks(ids):
        stored.rows.update((row.paper_id, row) for row in conn.execute(_PAPERS_BY_ID, {"ids": chunk}))
        for link in conn.execute(_LINKS_BY_PAPER, {"ids": chunk}):
            stored.links[link.paper_id].add(tuple(getattr(link, name) for name in LINK_COLUMNS))
        for author in conn.execute(_AUTHORS_BY_PAPER, {"ids": chunk}):
            stored.authors[author.paper_id] = (*stored.authors.get(author.paper_id, ()), (author.name, author.hf_user))
    return stored


def _sightings_of(conn: Connection, paper_ids: list[int]) -> Iterator[sa.Row]:
    """Every stored sighting of these papers, with what ranks it."""
    for chunk in chunks(paper_ids):
        yield from conn.execute(_SIGHTINGS_OF_PAPERS, {"ids": chunk})


def _member_from_row(row: sa.Row) -> Member:
    card = _card_from_row(row)
    record = record_from_listing(row.position, row.line_no, row.raw_title, row.raw_abstract, row.raw_meta, card)
    bound = _stored_year_bound(row) if record.raw_published is not None else None
    paper = _transform_text(
        record.raw_title, record.raw_abstract, record.raw_authors, record.raw_published, bound, _identity(card)
    )
    if paper is None:
        # Rules changed so that this stored title has no letter or digit left: keep the sighting
        # as a paper of its own (a key no other sighting can have) rather than fail or merge it.
        unmatched = f"unparsed:{row.source_file_id}:{row.position}"
        paper = Paper(row.raw_title, unmatched, row.raw_abstract, None, None, abstract_key=unmatched)
    return Member(paper, sighting_rank(row.ranked_on, row.sha256, row.position), row.path, row.line_no)


def _stored_year_bound(row: sa.Row) -> dt.date | None:
    """The year bound the file's load used (listing date, capture time, file time)."""
    capture = Capture(captured_at=_aware(row.captured_at))
    modified = _aware(row.modified_at)
    return year_bound(row.ranked_on, capture, modified.timestamp() if modified else None)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _identity(card: CardFacts) -> CardFacts:
    """The card values a Paper depends on (its id and links): a smaller cache key."""
    return CardFacts(
        arxiv_id=card.arxiv_id,
        github_url=card.github_url,
        abstract_urls=card.abstract_urls,
        project_page=card.project_page,
        author_names=card.author_names,
    )


@functools.lru_cache(maxsize=2000)  # recent stored sightings: a paper seen again soon is read again
def _transform_text(
    raw_title: str,
    raw_abstract: str,
    raw_authors: str | None,
    raw_published: str | None,
    bound: dt.date | None = None,
    card: CardFacts | None = None,
):
    record = RawRecord(
        0, 0, raw_title, raw_abstract, raw_authors=raw_authors, raw_published=raw_published, card=card or CardFacts()
    )
    return transform_record(record, bound)[0]


def _disagreement_problem(disagreement: Disagreement) -> Problem:
    rule = MERGE_RULES[disagreement.field]
    others = ", ".join(map(str, disagreement.others))
    why = (
        "the number of authors a capture names"
        if disagreement.named
        else f"the value most sightings give, on a tie {rule.tie_rule}"
    )
    reason = (
        f"{rule.label} {disagreement.value} disagrees with {others} given by another sighting of the same paper;"
        f" kept {disagreement.kept} ({why})"
    )
    return Problem(LEVEL_FIELD, reason, disagreement.member.line_no, excerpt(disagreement.member.paper.title))


def _absorb(conn: Connection, paper_id: int, others: list[int]) -> bool:
    """Fold papers that a new sighting shows to be one into the smallest paper_id."""
    if not others:
        return False
    conn.execute(listings.update().where(listings.c.paper_id.in_(others)).values(paper_id=paper_id))
    conn.execute(paper_links.delete().where(paper_links.c.paper_id.in_(others)))
    conn.execute(paper_authors.delete().where(paper_authors.c.paper_id.in_(others)))
    conn.execute(papers.delete().where(papers.c.paper_id.in_(others)))
    return True


@dataclass
class _StoredPaperWrites:
    """Changes to stored papers, gathered over a batch and written in bulk."""

    updates: list[dict] = field(default_factory=list)  # paper_id and the paper's new values
    relinked: dict[int, Paper] = field(default_factory=dict)
    authored: dict[int, Paper] = field(default_factory=dict)  # papers whose authors' names changed

    def apply(self, conn: Connection, now: dt.datetime) -> None:
        if self.updates:
            _update(conn, papers, "paper_id", [{"updated_at": now, **row} for row in self.updates])
        for chunk in chunks(list(self.relinked)):
            conn.execute(paper_links.delete().where(paper_links.c.paper_id.in_(chunk)))
        _append(conn, paper_links, [row for pid, paper in self.relinked.items() for row in _link_rows(pid, paper)])
        for chunk in chunks(list(self.authored)):
            conn.execute(paper_authors.delete().where(paper_authors.c.paper_id.in_(chunk)))
        _append(conn, paper_authors, [row for pid, paper in self.authored.items() for row in _author_rows(pid, paper)])


def _stage_update(writes: _StoredPaperWrites, paper_id: int, paper: Paper, stored: _Stored) -> bool:
    """Stage bringing a stored paper (and its links) to its merged value; return whether anything changes."""
    values = _paper_values(paper)
    row = stored.rows.get(paper_id)
    changed = row is None or any(getattr(row, name) != value for name, value in values.items())
    if stored.links.get(paper_id, set()) != {tuple(_link_values(link).values()) for link in paper.links}:
        writes.relinked[paper_id] = paper
        changed = True
    if stored.authors.get(paper_id, ()) != paper.author_names:
        writes.authored[paper_id] = paper
        changed = True
    if changed:  # updated_at moves with the row or its links
        writes.updates.append({"paper_id": paper_id, **values})
    return changed


def _insert_papers(conn: Connection, new_papers: list[tuple[int, Paper]], now: dt.datetime) -> dict[int, int]:
    """Insert new papers and their links; return cluster label -> paper_id."""
    if not new_papers:
        return {}
    ids = _reserve_paper_ids(conn, len(new_papers))
    rows = [
        {"paper_id": paper_id, **_paper_values(paper), "created_at": now, "updated_at": now}
        for paper_id, (_, paper) in zip(ids, new_papers, strict=True)
    ]
    _append(conn, papers, rows)
    inserted = list(zip(ids, new_papers, strict=True))
    _append(conn, paper_links, [row for paper_id, (_, paper) in inserted for row in _link_rows(paper_id, paper)])
    _append(conn, paper_authors, [row for paper_id, (_, paper) in inserted for row in _author_rows(paper_id, paper)])
    return {label: paper_id for paper_id, (label, _) in inserted}


def _reserve_paper_ids(conn: Connection, count: int) -> list[int]:
    """New paper_ids, so papers can be bulk-written without RETURNING.

    PostgreSQL: taken from the column's sequence (safe with any other writer).
    SQLite: the next ids after the largest, which is safe because this
    transaction already holds SQLite's single write lock (it wrote source_files).
    """
    if conn.dialect.name == "postgresql":
        query = sa.text("SELECT nextval(pg_get_serial_sequence('papers', 'paper_id')) FROM generate_series(1, :n)")
        return list(conn.execute(query, {"n": count}).scalars())
    largest = conn.execute(sa.select(sa.func.max(papers.c.paper_id))).scalar() or 0
    return list(range(largest + 1, largest + 1 + count))


# The papers columns a Paper fills, and the listings columns a sighting's card fills: derived from
# the tables and the dataclasses, so that a new column is its table, its migration and its dataclass.
PAPER_COLUMNS = tuple(c.name for c in papers.c if c.name in {f.name for f in fields(Paper)})
CARD_COLUMNS = tuple(c.name for c in listings.c if c.name in {f.name for f in fields(CardFacts)})
LINK_COLUMNS = tuple(c.name for c in paper_links.c if c.name != "paper_id")
URL_SEPARATOR = "\n"  # listings.abstract_urls: the URLs of the abstract's links, one a line


def _paper_values(paper: Paper) -> dict:
    return {name: getattr(paper, name) for name in PAPER_COLUMNS}


def _link_rows(paper_id: int, paper: Paper) -> list[dict]:
    return [{"paper_id": paper_id, **_link_values(link)} for link in paper.links]


def _author_rows(paper_id: int, paper: Paper) -> list[dict]:
    return [
        {"paper_id": paper_id, "position": position, "name": name, "hf_user": user}
        for position, (name, user) in enumerate(paper.author_names, start=1)
    ]


def _link_values(link) -> dict:
    return {name: getattr(link, name) for name in LINK_COLUMNS}


def _listing_row(source_file_id: int, paper_id: int, sighting: Sighting) -> dict:
    record = sighting.record
    card = {name: getattr(sighting.card, name) for name in CARD_COLUMNS}
    card["abstract_urls"] = URL_SEPARATOR.join(sighting.card.abstract_urls) or None
    names = sighting.card.author_names
    card["author_names"] = json.dumps([list(pair) for pair in names], ensure_ascii=False) if names is not None else None
    return {
        "source_file_id": source_file_id,
        "position": record.position,
        "paper_id": paper_id,
        "line_no": record.line_no,
        "raw_title": record.raw_title,
        "raw_abstract": record.raw_abstract,
        "raw_meta": record.raw_meta,
        "title_key": sighting.paper.title_key,
        "abstract_key": sighting.paper.abstract_key,
        **card,
    }


def _card_from_row(row: sa.Row) -> CardFacts:
    values = {name: getattr(row, name) for name in CARD_COLUMNS}
    values["abstract_urls"] = tuple(row.abstract_urls.split(URL_SEPARATOR)) if row.abstract_urls else ()
    names = json.loads(row.author_names) if row.author_names is not None else None
    values["author_names"] = tuple((name, user) for name, user in names) if names is not None else None
    return CardFacts(**values)


# --------------------------------------------------------------------------- rebuild


@dataclass(frozen=True)
class RebuildCounts:
    listings: int
    papers: int
    papers_changed: int  # inserted, updated or deleted


def rebuild_papers(engine: Engine) -> RebuildCounts:
    """Re-derive papers and paper_links from the raw text in listings, in one transaction.

    Every sighting is parsed again with the current rules and clustered from
    scratch, so the result is what a fresh load of the same files gives. A paper
    keeps its paper_id when one of its sightings already pointed at it.
    """
    now = utcnow()
    with engine.begin() as conn:
        rows = list(_all_sightings(conn))
        members = [_member_from_row(row) for row in rows]
        labels = components([m.paper for m in members])
        clusters: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            clusters[label].append(index)
        stored = {row.paper_id: row for row in conn.execute(sa.select(papers))}
        claimed: set[int] = set()
        new_papers: list[tuple[int, Paper]] = []
        paper_ids: dict[int, int] = {}
        writes = _StoredPaperWrites()
        changed = 0
        conn.execute(paper_links.delete())
        conn.execute(paper_authors.delete())
        # An id may move to another paper_id: clear them all first (papers.arxiv_id is unique), write them back below.
        conn.execute(papers.update().where(papers.c.arxiv_id.is_not(None)).values(arxiv_id=None))
        for label in sorted(clusters, key=lambda lb: min(members[i].rank for i in clusters[lb])):
            paper, _ = merge([members[i] for i in clusters[label]])
            reusable = sorted({rows[i].paper_id for i in clusters[label]} - claimed)
            if not reusable:
                new_papers.append((label, paper))
                continue
            paper_ids[label] = reusable[0]
            claimed.add(reusable[0])
            writes.relinked[reusable[0]] = paper  # every link was cleared above
            writes.authored[reusable[0]] = paper  # and every author
            values = _paper_values(paper)
            row = stored[reusable[0]]
            differs = any(getattr(row, name) != value for name, value in values.items())
            changed += differs
            if differs:
                writes.updates.append({"paper_id": reusable[0], **values})
            elif row.arxiv_id is not None:  # its id was cleared above: written back, the row unchanged
                writes.updates.append({"paper_id": reusable[0], **values, "updated_at": row.updated_at})
        writes.apply(conn, now)
        paper_ids.update(_insert_papers(conn, new_papers, now))
        _repoint_listings(conn, rows, members, [paper_ids[label] for label in labels])
        orphans = sorted(set(stored) - claimed)
        for chunk in chunks(orphans):
            conn.execute(papers.delete().where(papers.c.paper_id.in_(chunk)))
    return RebuildCounts(len(rows), len(clusters), changed + len(new_papers) + len(orphans))


def _all_sightings(conn: Connection) -> Iterator[sa.Row]:
    return conn.execute(_sightings_query().order_by(listings.c.source_file_id, listings.c.position))


def _sightings_query() -> sa.Select:
    """Stored sightings with their raw text, blocking keys and what ranks them (listing date, sha256)."""
    return sa.select(
        listings.c.source_file_id,
        listings.c.paper_id,
        listings.c.position,
        listings.c.line_no,
        listings.c.raw_title,
        listings.c.raw_abstract,
        listings.c.raw_meta,
        listings.c.title_key,
        listings.c.abstract_key,
        *(listings.c[name] for name in CARD_COLUMNS),
        source_files.c.path,
        source_files.c.sha256,
        # The sighting's listing date: its card's own (papers API), else its page's. It ranks sightings.
        sa.func.coalesce(listings.c.listed_on, source_files.c.listed_on, type_=sa.Date).label("ranked_on"),
        source_files.c.captured_at,
        source_files.c.modified_at,
    ).join(source_files, source_files.c.source_file_id == listings.c.source_file_id)


# Lookups of the load, built once so that SQLAlchemy compiles each once; the IN lists are
# expanding parameters, filled at execution.
_PAPERS_BY_TITLE_KEY = sa.select(listings.c.paper_id).where(
    listings.c.title_key.in_(sa.bindparam("keys", expanding=True))
)
_PAPERS_BY_ABSTRACT_KEY = sa.select(listings.c.paper_id).where(
    listings.c.abstract_key.in_(sa.bindparam("keys", expanding=True))
)
_PAPERS_BY_ARXIV_ID = sa.select(listings.c.paper_id).where(
    listings.c.arxiv_id.in_(sa.bindparam("keys", expanding=True))
)
_PAPERS_BY_ID = sa.select(papers).where(papers.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
_LINKS_BY_PAPER = sa.select(paper_links).where(paper_links.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
_AUTHORS_BY_PAPER = (
    sa.select(paper_authors)
    .where(paper_authors.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(paper_authors.c.paper_id, paper_authors.c.position)
)
_SIGHTINGS_OF_PAPERS = (
    _sightings_query()
    .where(listings.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(listings.c.paper_id, listings.c.source_file_id, listings.c.position)
)


def _repoint_listings(conn: Connection, rows: list[sa.Row], members: list[Member], paper_ids: list[int]) -> None:
    """Listings whose paper or blocking keys changed get the new values."""
    updates = []
    for row, member, paper_id in zip(rows, members, paper_ids, strict=True):
        wanted = (paper_id, member.paper.title_key, member.paper.abstract_key)
        if (row.paper_id, row.title_key, row.abstract_key) != wanted:
            updates.append(dict(zip(("pid", "tk", "ak"), wanted, strict=True), sf=row.source_file_id, pos=row.position))
    statement = (
        listings.update()
        .where(listings.c.source_file_id == sa.bindparam("sf"), listings.c.position == sa.bindparam("pos"))
        .values(paper_id=sa.bindparam("pid"), title_key=sa.bindparam("tk"), abstract_key=sa.bindparam("ak"))
    )
    for chunk in chunks(updates):
        conn.execute(statement, list(chunk))


# --------------------------------------------------------------------------- bulk writes


def _append(conn: Connection, table: sa.Table, rows: list[dict]) -> None:
    """Append rows: COPY on PostgreSQL, chunked multi-row INSERTs on SQLite."""
    if not rows:
        return
    names = list(rows[0])
    log.debug(
        "writing %d rows into %s (%s)",
        len(rows),
        table.name,
        "COPY" if conn.dialect.name == "postgresql" else "multi-row INSERT",
    )
    if conn.dialect.name != "postgresql":
        _sqlite_insert(conn, table, names, rows)
        return
    driver_connection = conn.connection.driver_connection
    copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _update(conn: Connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    """Update rows by ``key`` (each row holds it and the new values of the same columns):
    multi-row statements on SQLite (see _sqlite_insert), Core executemany elsewhere."""
    if conn.dialect.name != "postgresql":
        _sqlite_update(conn, table, key, rows)
        return
    columns = [name for name in rows[0] if name != key]
    statement = (
        table.update()
        .where(table.c[key] == sa.bindparam("_key"))
        .values(**{name: sa.bindparam(name) for name in columns})
    )
    for chunk in chunks(rows):
        conn.execute(statement, [{**row, "_key": row[key]} for row in chunk])


def _sqlite_insert(conn: Connection, table: sa.Table, names: list[str], rows: list[dict]) -> None:
    """Multi-row INSERT statements of up to CHUNK_ROWS rows each.

    Values go through each column's SQLAlchemy bind processor (dates and
    timestamps stored exactly as Core stores them), without Core's per-row
    statement machinery, which costs more than SQLite itself. One statement per
    chunk rather than one per row (executemany) matters for ``papers``: SQLite
    opens a statement savepoint for each statement that fires its full-text
    triggers, and FTS5 writes its pending terms as a new index segment at every
    savepoint, so a statement per row made a segment per paper and tripled the
    cost of the full-text index (docs/performance.md, round 3).
    """
    head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    _sqlite_multi_row(conn, table, names, rows, lambda values: head + values)


def _sqlite_update(conn: Connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    """One ``UPDATE … FROM`` (a VALUES list of the new rows) per chunk, for the reason of _sqlite_insert."""
    names = list(rows[0])
    assignments = ", ".join(f"{name} = changed.{name}" for name in names if name != key)
    head = f"WITH changed ({', '.join(names)}) AS (VALUES "
    tail = f") UPDATE {table.name} SET {assignments} FROM changed WHERE {table.name}.{key} = changed.{key}"
    _sqlite_multi_row(conn, table, names, rows, lambda values: head + values + tail)


def _sqlite_multi_row(
    conn: Connection, table: sa.Table, names: list[str], rows: list[dict], statement: Callable[[str], str]
) -> None:
    """Run ``statement(VALUES list)`` through the driver for each chunk of rows, as many rows
    per statement as CHUNK_ROWS and SQLite's limit on bound variables allow."""
    processors = [table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for name in names]
    bound = list(zip(processors, names, strict=True))
    driver = conn.connection.driver_connection
    per_statement = max(1, min(CHUNK_ROWS, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(names)))
    row_sql = f"({', '.join('?' * len(names))})"
    cursor = driver.cursor()
    try:
        for chunk in chunks(rows, per_statement):
            values = [_bound(process, row[name]) for row in chunk for process, name in bound]
            cursor.execute(statement(", ".join([row_sql] * len(chunk))), values)
    finally:
        cursor.close()


def _bound(process, value):
    return value if process is None or value is None else process(value)


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


# --------------------------------------------------------------------------- issue 4: re-runs and crashes


@dataclass
class _Detached:
    """--force: papers that only the reloaded file listed, by the positions of their sightings.
    The reload gives each back to the new cluster of one of its sightings (the same paper keeps
    its id and created_at); those it does not claim are deleted at the end of the file."""

    by_position: dict[int, int] = field(default_factory=dict)  # position on the page -> paper_id
    papers: set[int] = field(default_factory=set)  # detached and not claimed yet

    def claim(self, positions: Iterable[int]) -> int | None:
        candidates = sorted({self.by_position[p] for p in positions if p in self.by_position} & self.papers)
        if not candidates:
            return None
        self.papers.discard(candidates[0])
        return candidates[0]

    def stored(self, conn: Connection, paper_id: int) -> _Stored:
        """The detached paper's current row and links (what _stage_update compares with)."""
        found = _Stored([], [], [], {}, defaultdict(set))
        found.rows.update((row.paper_id, row) for row in conn.execute(_PAPERS_BY_ID, {"ids": [paper_id]}))
        for link in conn.execute(_LINKS_BY_PAPER, {"ids": [paper_id]}):
            found.links[link.paper_id].add((link.url, link.kind, link.repo))
        return found


def _delete_previous_load(conn: Connection, sha256: str) -> _Detached:
    """--force: remove a file's earlier load in the caller's transaction.

    Its source_files row and listings go. Papers that no other listing keeps are
    detached: the reload finds its papers exactly as a first load would (no
    duplicates), and a paper it finds again keeps its id; the rest are deleted.
    """
    previous = sa.select(source_files.c.source_file_id).where(source_files.c.sha256 == sha256)
    sightings = conn.execute(
        sa.select(listings.c.position, listings.c.paper_id).where(listings.c.source_file_id.in_(previous))
    ).all()
    conn.execute(listings.delete().where(listings.c.source_file_id.in_(previous)))
    conn.execute(source_files.delete().where(source_files.c.sha256 == sha256))
    kept: set[int] = set()
    for chunk in chunks(sorted({paper_id for _, paper_id in sightings})):
        kept.update(conn.execute(sa.select(listings.c.paper_id).where(listings.c.paper_id.in_(chunk))).scalars())
    detached = _Detached({position: pid for position, pid in sightings if pid not in kept})
    detached.papers = set(detached.by_position.values())
    return detached


def _delete_orphans(conn: Connection, paper_ids: list[int]) -> None:
    """Delete these papers (with their links) where no listing keeps them."""
    for chunk in chunks(paper_ids):
        kept = sa.select(listings.c.paper_id).where(listings.c.paper_id.in_(chunk))
        orphans = sa.and_(papers.c.paper_id.in_(chunk), papers.c.paper_id.not_in(kept))
        conn.execute(
            paper_links.delete().where(paper_links.c.paper_id.in_(sa.select(papers.c.paper_id).where(orphans)))
        )
        conn.execute(papers.delete().where(orphans))


INTERRUPTED_MESSAGE = "interrupted: the process ended before the run finished; the files it committed stay loaded"


def mark_abandoned_runs(engine: Engine) -> int:
    """Mark runs still 'running' as failed. Only call with the load lock held: then no such run is alive."""
    with engine.begin() as conn:
        result = conn.execute(
            etl_runs.update().where(etl_runs.c.status == "running").values(status="failed", message=INTERRUPTED_MESSAGE)
        )
    return result.rowcount


def known_keys(
    engine: Engine, title_keys: Iterable[str], abstract_keys: Iterable[str], arxiv_ids: Iterable[str] = ()
) -> tuple[set[str], set[str], set[str]]:
    """Of the given deduplication keys and arXiv ids, those some stored listing already has (for a dry run's
    estimate of new papers): indexed IN look-ups per 500 keys, read only."""
    found: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    columns = (listings.c.title_key, listings.c.abstract_key, listings.c.arxiv_id)
    with engine.connect() as conn:
        for keys, column, known in zip((title_keys, abstract_keys, arxiv_ids), columns, found, strict=True):
            pending = sorted(set(keys))
            for start in range(0, len(pending), 500):
                chunk = pending[start : start + 500]
                known.update(conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars())
    return found
