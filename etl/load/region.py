"""Read the stored part of the database a batch of new sightings may touch: its region.

A region is the stored papers that share a blocking key (title key, abstract key,
arXiv id) with a new sighting, with every sighting of each. Where a part of the
region holds two different arXiv ids, which id an id-less sighting joins depends
on everything that shares blocking keys with it: that part is widened until no
stored sighting outside it shares a key with it, and planned from scratch
(``fresh``), so that the result is what one load of every file would give.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..dedup import Member, blocking_keys
from ..records import Paper
from ..schema import listings, paper_authors, paper_links, papers
from .plan import StoredPaper, StoredSighting
from .rows import LINK_COLUMNS, PAPER_COLUMNS, member_from_row, sightings_query
from .writer import chunks

# Lookups built once, so that SQLAlchemy compiles each once; the IN lists are expanding parameters.
_PAPERS_BY_KEY = {
    "t": sa.select(listings.c.paper_id).where(listings.c.title_key.in_(sa.bindparam("keys", expanding=True))),
    "a": sa.select(listings.c.paper_id).where(listings.c.abstract_key.in_(sa.bindparam("keys", expanding=True))),
    "x": sa.select(listings.c.paper_id).where(listings.c.arxiv_id.in_(sa.bindparam("keys", expanding=True))),
}
_PAPERS_BY_ID = sa.select(papers).where(papers.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
_LINKS_BY_PAPER = sa.select(paper_links).where(paper_links.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
_AUTHORS_BY_PAPER = (
    sa.select(paper_authors)
    .where(paper_authors.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(paper_authors.c.paper_id, paper_authors.c.position)
)
_SIGHTINGS_OF_PAPERS = (
    sightings_query()
    .where(listings.c.paper_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(listings.c.paper_id, listings.c.source_file_id, listings.c.position)
)


@dataclass
class Region:
    stored: list[StoredSighting] = field(default_factory=list)
    papers: dict[int, StoredPaper] = field(default_factory=dict)
    fresh: set[int] = field(default_factory=set)  # stored papers to plan again from scratch


def read_region(conn: Connection, new: list[Member], previous_ids: Iterable[int] = ()) -> Region:
    """The stored sightings and papers ``new`` may join (and the papers a ``--force`` detached)."""
    region = Region()
    _add_papers(conn, region, _papers_with_keys(conn, _keys_of(m.paper for m in new)))
    fresh = _parts_with_two_ids(region.stored, new)
    if fresh:
        _widen(conn, region, fresh, new)
    _add_rows(conn, region, set(previous_ids) - set(region.papers))
    return region


def read_closed_region(conn: Connection, seeds: Iterable[int]) -> Region:
    """The stored papers ``seeds`` and all that share blocking keys with them, transitively, all fresh
    (``load --force``: the papers a reloaded file's earlier sightings left behind)."""
    region = Region()
    seeds = set(seeds)
    _add_papers(conn, region, seeds)
    _widen(conn, region, seeds & set(region.papers), [])
    return region


def stored_papers(conn: Connection, paper_ids: Iterable[int]) -> dict[int, StoredPaper]:
    """The rows, links and authors of these papers."""
    region = Region()
    _add_rows(conn, region, set(paper_ids))
    return region.papers


def read_all_sightings(conn: Connection) -> Iterator[sa.Row]:
    return conn.execute(sightings_query().order_by(listings.c.source_file_id, listings.c.position))


def stored_sighting(row: sa.Row) -> StoredSighting:
    return StoredSighting(
        member_from_row(row), row.paper_id, (row.source_file_id, row.position), (row.title_key, row.abstract_key)
    )


def known_keys(
    engine: Engine, title_keys: Iterable[str], abstract_keys: Iterable[str], arxiv_ids: Iterable[str] = ()
) -> tuple[set[str], set[str], set[str]]:
    """Of the given deduplication keys and arXiv ids, those some stored listing already has (for a dry run's
    estimate of new papers): indexed IN look-ups per 500 keys, read only."""
    found: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    columns = (listings.c.title_key, listings.c.abstract_key, listings.c.arxiv_id)
    with engine.connect() as conn:
        for keys, column, known in zip((title_keys, abstract_keys, arxiv_ids), columns, found, strict=True):
            for chunk in chunks(sorted(set(keys))):
                known.update(conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


def _keys_of(found: Iterable[Paper]) -> set[str]:
    return {key for paper in found for key in blocking_keys(paper)}


def _papers_with_keys(conn: Connection, keys: set[str]) -> set[int]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_kind[key[0]].append(key[2:])
    found: set[int] = set()
    for kind, values in by_kind.items():
        for chunk in chunks(sorted(values)):
            found.update(conn.execute(_PAPERS_BY_KEY[kind], {"keys": chunk}).scalars())
    return found


def _add_papers(conn: Connection, region: Region, paper_ids: set[int]) -> None:
    """Add these papers, with every sighting of each, to the region."""
    wanted = sorted(paper_ids - set(region.papers))
    for chunk in chunks(wanted):
        region.stored.extend(stored_sighting(row) for row in conn.execute(_SIGHTINGS_OF_PAPERS, {"ids": chunk}))
    _add_rows(conn, region, set(wanted))


def _add_rows(conn: Connection, region: Region, paper_ids: set[int]) -> None:
    rows: dict[int, dict] = {}
    links: dict[int, set] = defaultdict(set)
    authors: dict[int, list] = defaultdict(list)
    for chunk in chunks(sorted(paper_ids)):
        for row in conn.execute(_PAPERS_BY_ID, {"ids": chunk}):
            rows[row.paper_id] = {name: getattr(row, name) for name in PAPER_COLUMNS}
        for link in conn.execute(_LINKS_BY_PAPER, {"ids": chunk}):
            links[link.paper_id].add(tuple(getattr(link, name) for name in LINK_COLUMNS))
        for author in conn.execute(_AUTHORS_BY_PAPER, {"ids": chunk}):
            authors[author.paper_id].append((author.name, author.hf_user))
    for paper_id, values in rows.items():
        region.papers[paper_id] = StoredPaper(values, frozenset(links[paper_id]), tuple(authors[paper_id]))


def _widen(conn: Connection, region: Region, fresh: set[int], new: list[Member]) -> None:
    """Add to the region every stored paper that shares a blocking key with a fresh one, until none is left;
    all of them are fresh."""
    looked_up: set[str] = _keys_of(m.paper for m in new)
    while True:
        region.fresh |= fresh
        keys = _keys_of(s.member.paper for s in region.stored if s.paper_id in region.fresh) - looked_up
        looked_up |= keys
        found = _papers_with_keys(conn, keys) - set(region.papers) if keys else set()
        if not found:
            return
        _add_papers(conn, region, found)
        fresh = found


def _parts_with_two_ids(stored: list[StoredSighting], new: list[Member]) -> set[int]:
    """The stored papers in parts of the region (sightings linked by shared blocking keys or one paper)
    that hold two different arXiv ids."""
    members = [s.member for s in stored] + new
    if len({m.paper.arxiv_id for m in members} - {None}) < 2:
        return set()  # most regions: no id, or one
    parent = list(range(len(members)))

    def find(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    first_with: dict[object, int] = {}
    for index, member in enumerate(members):
        paper_id = stored[index].paper_id if index < len(stored) else None
        for key in [*blocking_keys(member.paper), *([("paper", paper_id)] if paper_id is not None else [])]:
            other = first_with.setdefault(key, index)
            parent[find(index)] = find(other)
    ids: dict[int, set[str]] = defaultdict(set)
    for index, member in enumerate(members):
        if member.paper.arxiv_id:
            ids[find(index)].add(member.paper.arxiv_id)
    return {s.paper_id for index, s in enumerate(stored) if len(ids[find(index)]) > 1}
