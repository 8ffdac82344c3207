"""Write a PaperPlan: the papers it inserts, updates and deletes, and the stored sightings it moves."""

from __future__ import annotations

import datetime as dt

from ..schema import listings, paper_authors, paper_links, papers
from .plan import PaperPlan, StoredPaper
from .rows import author_rows, link_rows, paper_values
from .writer import BulkWriter


def apply_plan(writer: BulkWriter, plan: PaperPlan, stored: dict[int, StoredPaper], now: dt.datetime) -> list[int]:
    """Write ``plan`` and return the paper_id of each of its papers (new ones get theirs here)."""
    _release_ids(writer, plan, stored)
    new_ids = iter(writer.reserve_paper_ids(plan.inserted))
    paper_ids = [p.paper_id if p.paper_id is not None else next(new_ids) for p in plan.papers]
    planned = list(zip(paper_ids, plan.papers, strict=True))
    writer.append(
        papers,
        [
            {"paper_id": pid, **paper_values(p.paper), "created_at": now, "updated_at": now}
            for pid, p in planned
            if p.paper_id is None
        ],
    )
    # updated_at moves with the row, its links or its authors.
    changed = [
        (pid, p)
        for pid, p in planned
        if p.paper_id is not None and (p.row_changed or p.links_changed or p.authors_changed)
    ]
    writer.update(
        papers, ("paper_id",), [{"paper_id": pid, **paper_values(p.paper), "updated_at": now} for pid, p in changed]
    )
    relinked = [(pid, p) for pid, p in planned if p.links_changed]
    writer.delete_in(paper_links, "paper_id", [pid for pid, p in relinked if p.paper_id is not None])
    writer.append(paper_links, [row for pid, p in relinked for row in link_rows(pid, p.paper)])
    authored = [(pid, p) for pid, p in planned if p.authors_changed]
    writer.delete_in(paper_authors, "paper_id", [pid for pid, p in authored if p.paper_id is not None])
    writer.append(paper_authors, [row for pid, p in authored for row in author_rows(pid, p.paper)])
    writer.update(listings, ("source_file_id", "position"), [_moved_row(s, paper_ids[i]) for s, i in plan.moved])
    for table in (paper_links, paper_authors, papers):
        writer.delete_in(table, "paper_id", plan.deleted)
    return paper_ids


def _release_ids(writer: BulkWriter, plan: PaperPlan, stored: dict[int, StoredPaper]) -> None:
    """Clear the arXiv ids that leave their paper (papers.arxiv_id is unique) before any is written again."""
    leaving = [pid for pid in plan.deleted if stored[pid].values["arxiv_id"] is not None]
    for p in plan.papers:
        if p.paper_id is not None and stored[p.paper_id].values["arxiv_id"] not in (None, p.paper.arxiv_id):
            leaving.append(p.paper_id)
    writer.update(papers, ("paper_id",), [{"paper_id": pid, "arxiv_id": None} for pid in sorted(leaving)])


def _moved_row(sighting, paper_id: int) -> dict:
    source_file_id, position = sighting.place
    title_key, abstract_key = sighting.member.paper.title_key, sighting.member.paper.abstract_key
    return {
        "source_file_id": source_file_id,
        "position": position,
        "paper_id": paper_id,
        "title_key": title_key,
        "abstract_key": abstract_key,
    }
