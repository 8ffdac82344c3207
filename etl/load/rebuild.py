"""``papers-etl rebuild``: papers, paper_links and paper_authors derived again from listings."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..schema import paper_authors, paper_links, papers
from .apply import apply_plan
from .plan import plan_papers
from .region import read_all_sightings, stored_papers, stored_sighting
from .runs import utcnow
from .writer import bulk_writer


@dataclass(frozen=True)
class RebuildCounts:
    listings: int
    papers: int
    papers_changed: int  # inserted, updated or deleted


def rebuild_papers(engine: Engine) -> RebuildCounts:
    """Re-derive papers, their links and authors from the raw text in listings, in one transaction.

    Every sighting is parsed again with the current rules and planned from
    scratch (etl.load.plan, as the load plans), so the result is what a fresh
    load of the same files gives. A paper keeps its paper_id when one of its
    sightings already pointed at it.
    """
    now = utcnow()
    with engine.begin() as conn:
        writer = bulk_writer(conn)
        stored = [stored_sighting(row) for row in read_all_sightings(conn)]
        rows = stored_papers(conn, conn.execute(sa.select(papers.c.paper_id)).scalars())
        # No sighting at all: nothing derives them. Deleted first, so that an arXiv id one of them holds
        # is free for the paper the plan gives it to (papers.arxiv_id is unique).
        unlisted = set(rows) - {s.paper_id for s in stored}
        for table in (paper_links, paper_authors, papers):
            writer.delete_in(table, "paper_id", unlisted)
        plan = plan_papers([], stored, {pid: row for pid, row in rows.items() if pid not in unlisted}, fresh=set(rows))
        apply_plan(writer, plan, rows, now)
    return RebuildCounts(
        len(stored), len(plan.papers), plan.inserted + plan.updated + len(plan.deleted) + len(unlisted)
    )
