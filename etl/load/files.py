"""Load one parsed capture file, in the caller's transaction; ``load --force`` replaces an earlier load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..dedup import MERGE_RULES, Disagreement, Member, sighting_rank
from ..events import FileEnd, SightingBatch, rebatched
from ..records import LEVEL_FIELD, PAGE_UNKNOWN, Problem, RawRecord, Sighting, excerpt
from ..schema import listings, paper_authors, paper_links, papers, rejects, source_files
from .apply import apply_plan
from .plan import NewSighting, plan_papers
from .region import read_closed_region, read_region
from .rows import listing_row, remember_loaded
from .runs import reject_rows, utcnow
from .writer import BulkWriter, bulk_writer, chunks

BATCH_RECORDS = 5000  # sightings clustered and written together (memory stays flat for any file size)


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
    writer = bulk_writer(conn)
    counts = FileCounts()
    previous = _delete_previous_load(conn, source.sha256) if replace else _PreviousLoad()
    source_file_id = conn.execute(
        source_files.insert()
        .values(**asdict(source), record_count=0, run_id=run_id, loaded_at=now)
        .returning(source_files.c.source_file_id)
    ).scalar_one()
    for event in rebatched(events, BATCH_RECORDS):
        if isinstance(event, FileEnd):  # the last event
            end = event
        else:
            _load_batch(writer, source, source_file_id, list(event.sightings), counts, now, previous)
    if previous.left_behind:
        _settle(writer, previous.left_behind, counts, now)
    _delete_orphans(conn, sorted(set(previous.by_position.values())))
    conn.execute(
        source_files.update()
        .where(source_files.c.source_file_id == source_file_id)
        .values(record_count=end.tally.records, parse_digest=end.digest)
    )
    writer.append(rejects, reject_rows(run_id, source.path, [*end.problems, *counts.disagreements]))
    return counts, end


def _load_batch(
    writer: BulkWriter,
    source: SourceFile,
    source_file_id: int,
    batch: list[Sighting],
    counts: FileCounts,
    now: dt.datetime,
    previous: _PreviousLoad,
) -> None:
    """Plan a batch of sightings with the stored sightings they may be (etl.load.plan), then write."""
    new = [
        NewSighting(
            Member(s.paper, _rank(source, s.record), source.path, s.record.line_no),
            previous.unclaimed_at(s.record.position),
        )
        for s in batch
    ]
    region = read_region(writer.conn, [n.member for n in new], {n.previous_paper_id for n in new} - {None})
    plan = plan_papers(new, region.stored, region.papers, region.fresh)
    paper_ids = apply_plan(writer, plan, region.papers, now)
    previous.unclaimed.difference_update(paper_ids)
    writer.append(
        listings,
        [listing_row(source_file_id, paper_ids[plan.new_sightings[i]], s) for i, s in enumerate(batch)],
    )
    remember_loaded(source_file_id, batch, source.listed_on, source.captured_at, source.modified_at)
    new_members = {id(n.member) for n in new}
    counts.disagreements += [_disagreement_problem(d) for d in plan.disagreements if id(d.member) in new_members]
    counts.records += len(batch)
    counts.papers_inserted += plan.inserted
    counts.papers_updated += plan.updated


def _settle(writer: BulkWriter, left_behind: set[int], counts: FileCounts, now: dt.datetime) -> None:
    """--force: plan again, from scratch, the papers that lost sightings to the reload and kept others,
    with all that shares blocking keys with them (a sighting that bridged two may be gone)."""
    region = read_closed_region(writer.conn, left_behind)
    plan = plan_papers([], region.stored, region.papers, region.fresh)
    apply_plan(writer, plan, region.papers, now)
    counts.papers_updated += plan.updated
    counts.papers_inserted += plan.inserted


def _rank(source: SourceFile, record: RawRecord) -> tuple:
    return sighting_rank(record.card.listed_on or source.listed_on, source.sha256, record.position)


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


# --------------------------------------------------------------------------- load --force


@dataclass
class _PreviousLoad:
    """--force: what the file's earlier load leaves behind once removed.

    ``by_position``: the papers only that file listed, by the places of their
    sightings on the page. The reload gives each back to the cluster of one of its
    sightings (the same paper keeps its id and created_at); those it does not
    claim are deleted at the end of the file. ``left_behind``: the papers it
    listed that other files list too; they are planned again at the end.
    """

    by_position: dict[int, int] = field(default_factory=dict)  # position on the page -> paper_id
    left_behind: set[int] = field(default_factory=set)
    unclaimed: set[int] = field(default_factory=set)  # of by_position's papers, those no cluster took back yet

    def unclaimed_at(self, position: int) -> int | None:
        paper_id = self.by_position.get(position)
        return paper_id if paper_id in self.unclaimed else None


def _delete_previous_load(conn: Connection, sha256: str) -> _PreviousLoad:
    """--force: remove a file's earlier load (its source_files row and listings) in the caller's transaction."""
    previous = sa.select(source_files.c.source_file_id).where(source_files.c.sha256 == sha256)
    sightings = conn.execute(
        sa.select(listings.c.position, listings.c.paper_id).where(listings.c.source_file_id.in_(previous))
    ).all()
    conn.execute(listings.delete().where(listings.c.source_file_id.in_(previous)))
    conn.execute(source_files.delete().where(source_files.c.sha256 == sha256))
    kept: set[int] = set()
    for chunk in chunks(sorted({paper_id for _, paper_id in sightings})):
        kept.update(conn.execute(sa.select(listings.c.paper_id).where(listings.c.paper_id.in_(chunk))).scalars())
    only_here = {position: pid for position, pid in sightings if pid not in kept}
    return _PreviousLoad(only_here, kept, set(only_here.values()))


def _delete_orphans(conn: Connection, paper_ids: list[int]) -> None:
    """Delete these papers (with their links and authors) where no listing keeps them."""
    for chunk in chunks(paper_ids):
        kept = sa.select(listings.c.paper_id).where(listings.c.paper_id.in_(chunk))
        orphans = sa.and_(papers.c.paper_id.in_(chunk), papers.c.paper_id.not_in(kept))
        orphan_ids = sa.select(papers.c.paper_id).where(orphans)
        conn.execute(paper_links.delete().where(paper_links.c.paper_id.in_(orphan_ids)))
        conn.execute(paper_authors.delete().where(paper_authors.c.paper_id.in_(orphan_ids)))
        conn.execute(papers.delete().where(orphans))
