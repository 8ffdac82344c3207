"""Rows and dataclasses, one from the other: the papers, listings, paper_links and
paper_authors rows a Paper or a Sighting gives, and the Member a stored listing gives.

Column lists are derived from the tables and the dataclasses, so that a new column
is its table, its migration, its dataclass and the code that fills it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from dataclasses import fields

import sqlalchemy as sa

from ..dedup import Member, sighting_rank
from ..records import Capture, CardFacts, Paper, RawRecord, Sighting
from ..schema import listings, paper_links, papers, source_files
from ..transform import record_from_listing, transform_record, year_bound

PAPER_COLUMNS = tuple(c.name for c in papers.c if c.name in {f.name for f in fields(Paper)})
CARD_COLUMNS = tuple(c.name for c in listings.c if c.name in {f.name for f in fields(CardFacts)})
LINK_COLUMNS = tuple(c.name for c in paper_links.c if c.name != "paper_id")
URL_SEPARATOR = "\n"  # listings.abstract_urls: the URLs of the abstract's links, one a line


def paper_values(paper: Paper) -> dict:
    return {name: getattr(paper, name) for name in PAPER_COLUMNS}


def link_values(link) -> tuple:
    return tuple(getattr(link, name) for name in LINK_COLUMNS)


def link_rows(paper_id: int, paper: Paper) -> list[dict]:
    return [{"paper_id": paper_id, **dict(zip(LINK_COLUMNS, link_values(link), strict=True))} for link in paper.links]


def author_rows(paper_id: int, paper: Paper) -> list[dict]:
    return [
        {"paper_id": paper_id, "position": position, "name": name, "hf_user": user}
        for position, (name, user) in enumerate(paper.author_names, start=1)
    ]


def listing_row(source_file_id: int, paper_id: int, sighting: Sighting) -> dict:
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


def card_from_row(row: sa.Row) -> CardFacts:
    values = {name: getattr(row, name) for name in CARD_COLUMNS}
    values["abstract_urls"] = tuple(row.abstract_urls.split(URL_SEPARATOR)) if row.abstract_urls else ()
    names = json.loads(row.author_names) if row.author_names is not None else None
    values["author_names"] = tuple((name, user) for name, user in names) if names is not None else None
    return CardFacts(**values)


def sightings_query() -> sa.Select:
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


def member_from_row(row: sa.Row) -> Member:
    """A stored sighting as the current rules read it again."""
    card = card_from_row(row)
    record = record_from_listing(row.position, row.line_no, row.raw_title, row.raw_abstract, row.raw_meta, card)
    bound = _stored_year_bound(row) if record.raw_published is not None else None
    key = (record.raw_title, record.raw_abstract, record.raw_authors, record.raw_published, bound, _identity(card))
    paper = RECENT_PAPERS.get(key)
    if paper is None:
        paper = _transform_text(*key)
        if paper is not None:
            RECENT_PAPERS.put(key, paper)
    if paper is None:
        # Rules changed so that this stored title has no letter or digit left: keep the sighting
        # as a paper of its own (a key no other sighting can have) rather than fail or merge it.
        unmatched = f"unparsed:{row.source_file_id}:{row.position}"
        paper = Paper(row.raw_title, unmatched, row.raw_abstract, None, None, abstract_key=unmatched)
    return Member(paper, sighting_rank(row.ranked_on, row.sha256, row.position), row.path, row.line_no)


def remember_loaded(sighting: Sighting, listed_on: dt.date | None, captured_at, modified_at) -> None:
    """Keep the paper a sighting just loaded was read as, under the key ``member_from_row`` will look it up
    by, so that reading it back (a later batch's sighting of the same paper) needs no transform. Only when
    its parse had the very inputs that reading it back gives: the same raw fields and the same year bound
    (a card's own listing date bounds the read-back, the page's bounded the parse)."""
    record, card = sighting.record, sighting.card
    read_back = record_from_listing(record.position, record.line_no, record.raw_title, record.raw_abstract,
                                    record.raw_meta, card)  # fmt: skip
    if (read_back.raw_authors, read_back.raw_published) != (record.raw_authors, record.raw_published):
        return
    bound = None
    if record.raw_published is not None:
        if card.listed_on not in (None, listed_on):
            return
        bound = year_bound(listed_on, Capture(captured_at=_aware(captured_at)), _timestamp(modified_at))
    key = (record.raw_title, record.raw_abstract, record.raw_authors, record.raw_published, bound, _identity(card))
    RECENT_PAPERS.put(key, sighting.paper)


class RecentPapers:
    """The papers the latest sightings were read as (loaded, or read back), by what they were read from:
    (raw title, abstract, authors and date lines, year bound, the card's identity). A paper seen again
    soon is read back without running the transform again; at most ``size`` are kept, the oldest go."""

    def __init__(self, size: int):
        self.size = size
        self._papers: OrderedDict[tuple, Paper] = OrderedDict()
        self.hits = 0  # look-ups answered (tests and profiles read it)

    def get(self, key: tuple) -> Paper | None:
        paper = self._papers.get(key)
        if paper is not None:
            self.hits += 1
            self._papers.move_to_end(key)
        return paper

    def put(self, key: tuple, paper: Paper) -> None:
        self._papers[key] = paper
        self._papers.move_to_end(key)
        if len(self._papers) > self.size:
            self._papers.popitem(last=False)

    def clear(self) -> None:
        self._papers.clear()
        self.hits = 0


# About 1.7 KB a paper (its abstract most of it): 10,000 hold a few files' worth, about 17 MB.
RECENT_PAPERS = RecentPapers(10_000)


def _stored_year_bound(row: sa.Row) -> dt.date | None:
    """The year bound the file's load used (listing date, capture time, file time)."""
    capture = Capture(captured_at=_aware(row.captured_at))
    return year_bound(row.ranked_on, capture, _timestamp(row.modified_at))


def _timestamp(modified_at: dt.datetime | None) -> float | None:
    modified = _aware(modified_at)
    return modified.timestamp() if modified else None


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


def _transform_text(
    raw_title: str,
    raw_abstract: str,
    raw_authors: str | None,
    raw_published: str | None,
    bound: dt.date | None,
    card: CardFacts,
) -> Paper | None:
    record = RawRecord(0, 0, raw_title, raw_abstract, raw_authors=raw_authors, raw_published=raw_published, card=card)
    return transform_record(record, bound)[0]
