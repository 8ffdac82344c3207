"""Rows and dataclasses, one from the other: the papers, listings, paper_links and
paper_authors rows a Paper or a Sighting gives, and the Member a stored listing gives.

Column lists are derived from the tables and the dataclasses, so that a new column
is its table, its migration, its dataclass and the code that fills it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields

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
    inputs = _read_inputs(record, card, row.ranked_on, row.captured_at, row.modified_at)
    place = (row.source_file_id, row.position)
    paper = RECENT_PAPERS.paper(place, inputs)
    if paper is None:
        paper = _transform_text(*inputs)
        if paper is not None:
            RECENT_PAPERS.put_read(place, inputs, paper)
    if paper is None:
        # Rules changed so that this stored title has no letter or digit left: keep the sighting
        # as a paper of its own (a key no other sighting can have) rather than fail or merge it.
        unmatched = f"unparsed:{row.source_file_id}:{row.position}"
        paper = Paper(row.raw_title, unmatched, row.raw_abstract, None, None, abstract_key=unmatched)
    return Member(paper, sighting_rank(row.ranked_on, row.sha256, row.position), row.path, row.line_no)


@dataclass(frozen=True)
class _Loaded:
    """A sighting this process just wrote, with what bounded its dates: kept until it is read back."""

    sighting: Sighting
    listed_on: dt.date | None
    captured_at: dt.datetime | None
    modified_at: dt.datetime | None

    def read_inputs(self) -> tuple:
        """What ``member_from_row`` will transform when it reads this sighting back, or () when that is
        not what its parse transformed (other author or date lines, or a card's own listing date
        bounding a date the page's date bounded in the parse): then it never matches."""
        record, card = self.sighting.record, self.sighting.card
        read_back = record_from_listing(record.position, record.line_no, record.raw_title, record.raw_abstract,
                                        record.raw_meta, card)  # fmt: skip
        if (read_back.raw_authors, read_back.raw_published) != (record.raw_authors, record.raw_published):
            return ()
        if record.raw_published is not None and card.listed_on not in (None, self.listed_on):
            return ()
        return _read_inputs(read_back, card, self.listed_on, self.captured_at, self.modified_at)


class RecentPapers:
    """The papers of the latest sightings written or read back, by their place (source_file_id, position),
    each with what it was read from (raw title, abstract, author and date lines, year bound, the card's
    identity): a later batch that reads one back gets its paper without the transform, when what it would
    transform is that very input (so a place reused after a rollback never gives another's paper). A
    sighting just written is kept as it is; what reading it back would transform is worked out at the
    first look-up, so the many that are never read back cost nothing. At most ``size`` are kept."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple, tuple[tuple, Paper] | _Loaded] = OrderedDict()
        self._lock = threading.Lock()  # loads of other databases may run in other threads of the process
        self.hits = 0  # look-ups answered (tests and profiles read it)

    def paper(self, place: tuple, inputs: tuple) -> Paper | None:
        with self._lock:
            entry = self._entries.get(place)
            if entry is None:
                return None
            if isinstance(entry, _Loaded):
                entry = (entry.read_inputs(), entry.sighting.paper)
                self._entries[place] = entry
            known, paper = entry
            if known != inputs:
                return None
            self.hits += 1
            self._entries.move_to_end(place)
            return paper

    def put_loaded(self, place: tuple, loaded: _Loaded) -> None:
        self._put(place, loaded)

    def put_read(self, place: tuple, inputs: tuple, paper: Paper) -> None:
        self._put(place, (inputs, paper))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = 0

    def _put(self, place: tuple, entry) -> None:
        with self._lock:
            self._entries[place] = entry
            self._entries.move_to_end(place)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)


# About 3 KB a sighting (its raw and clean abstract most of it): 10,000 are a few files' worth.
RECENT_PAPERS = RecentPapers(10_000)


def remember_loaded(source_file_id: int, batch: list[Sighting], listed_on, captured_at, modified_at) -> None:
    """Keep the sightings just written (see RecentPapers): reading them back in a later batch (the same
    paper seen again) needs no transform."""
    for sighting in batch:
        place = (source_file_id, sighting.record.position)
        RECENT_PAPERS.put_loaded(place, _Loaded(sighting, listed_on, captured_at, modified_at))


def _read_inputs(record: RawRecord, card: CardFacts, ranked_on, captured_at, modified_at) -> tuple:
    """What reading a stored sighting back transforms: its raw fields, the year bound its file's load used
    (listing date, capture time, file time; only where a date is printed) and its card's identity."""
    bound = None
    if record.raw_published is not None:
        bound = year_bound(ranked_on, Capture(captured_at=_aware(captured_at)), _timestamp(modified_at))
    return (record.raw_title, record.raw_abstract, record.raw_authors, record.raw_published, bound, _identity(card))


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
