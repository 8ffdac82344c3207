"""Plain dataclasses passed between the stages.

extract -> RawRecord / Page, transform -> Paper / Link, and Problem for anything
that goes to the ``rejects`` table. No I/O and no database types here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

LEVEL_FILE = "file"
LEVEL_RECORD = "record"
LEVEL_FIELD = "field"
LEVELS = (LEVEL_FILE, LEVEL_RECORD, LEVEL_FIELD)

LINK_GITHUB_REPO = "github_repo"
LINK_GITHUB_PAGES = "github_pages"
LINK_GIST = "gist"
LINK_OTHER = "other"
LINK_KINDS = (LINK_GITHUB_REPO, LINK_GITHUB_PAGES, LINK_GIST, LINK_OTHER)

# How a page's listing date was found, best first (source_files.listed_on_source).
LISTED_ON_OPTION = "option"
LISTED_ON_PAGE_URL = "page_url"
LISTED_ON_FILE_NAME = "file_name"
LISTED_ON_HEADER = "header"
LISTED_ON_SOURCES = (LISTED_ON_OPTION, LISTED_ON_PAGE_URL, LISTED_ON_FILE_NAME, LISTED_ON_HEADER)

# What kind of papers page a capture shows, from its URL (source_files.page_kind).
PAGE_DAILY = "daily"
PAGE_WEEKLY = "weekly"
PAGE_MONTHLY = "monthly"
PAGE_TRENDING = "trending"
PAGE_SEARCH = "search"
PAGE_UNKNOWN = "unknown"
PAGE_KINDS = (PAGE_DAILY, PAGE_WEEKLY, PAGE_MONTHLY, PAGE_TRENDING, PAGE_SEARCH, PAGE_UNKNOWN)

EXCERPT_CHARS = 120


def excerpt(text: str | None) -> str | None:
    """A short, single-line piece of ``text`` for error messages and ``rejects.excerpt``."""
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input, at file, record or field level."""

    level: str
    reason: str
    line_no: int | None = None
    excerpt: str | None = None


@dataclass(frozen=True)
class CardFacts:
    """What a paper's card shows besides its title, abstract, author line and date:
    one sighting's values (``listings`` columns of the same names), as the page printed them."""

    arxiv_id: str | None = None  # "2606.00683", from the card's link to huggingface.co/papers/… or arxiv.org
    upvotes: int | None = None
    comments: int | None = None
    github_url: str | None = None  # the card's own GitHub link (a paper_links row, found_in 'card')
    github_stars: int | None = None
    submitted_by: str | None = None
    organization: str | None = None
    abstract_urls: tuple[str, ...] = ()  # URLs of links inside the abstract, whose text alone is in raw_abstract
    project_page: str | None = None  # the paper's project page (papers API)
    listed_on: dt.date | None = None  # the day this card was listed, where the capture says it per card (papers API)
    # The authors' names in order, each with its Hub user name or None (papers API, saved pages); None: not given.
    author_names: tuple[tuple[str, str | None], ...] | None = None


NO_CARD = CardFacts()


@dataclass(frozen=True)
class RawRecord:
    """One paper as it stands on the page, text untouched (a field wrapped over
    several lines is joined with a space)."""

    position: int  # 1-based place on the page
    line_no: int  # line of the title
    raw_title: str
    raw_abstract: str | None  # None: the page ends (or metadata starts) before an abstract
    raw_authors: str | None = None  # "  • 13 authors", "3 authors", or an organisation printed in its place
    authors_line_no: int | None = None
    raw_published: str | None = None  # "Jun 7, 2023", "May 29 6", "Published on Dec 28, 2024"
    published_line_no: int | None = None
    raw_comments: str | None = None  # a comment count printed on its own line after the date
    comments_line_no: int | None = None
    card: CardFacts = NO_CARD  # formats that read cards (Markdown, the API) fill it

    @property
    def raw_meta(self) -> str | None:
        """The metadata lines verbatim, newline-joined, for ``listings.raw_meta``."""
        lines = [line for line in (self.raw_authors, self.raw_published, self.raw_comments) if line is not None]
        return "\n".join(lines) if lines else None


@dataclass(frozen=True)
class Capture:
    """What the capture tool's wrapper says about the page (source_files.page_url, …)."""

    page_url: str | None = None
    page_kind: str = PAGE_UNKNOWN
    captured_at: dt.datetime | None = None
    listed_on: dt.date | None = None  # the date of a dated page URL (/papers/date/2025-03-12)
    problems: tuple[Problem, ...] = ()


@dataclass
class Page:
    """A capture split into records, with what was found in its header."""

    layout: str
    records: list[RawRecord] = field(default_factory=list)
    header_date: str | None = None  # listing date as printed, e.g. "Mar 12"
    header_date_line_no: int | None = None
    problems: list[Problem] = field(default_factory=list)
    capture: Capture = field(default_factory=Capture)


FOUND_IN_ABSTRACT = "abstract"
FOUND_IN_CARD = "card"
FOUND_IN_BOTH = "both"
FOUND_IN = (FOUND_IN_ABSTRACT, FOUND_IN_CARD, FOUND_IN_BOTH)


@dataclass(frozen=True)
class Link:
    url: str  # normalised (links.normalise_url)
    kind: str
    repo: str | None = None  # lowercase "owner/name" for a GitHub repository
    found_in: str = FOUND_IN_ABSTRACT  # in the abstract's text, as the card's own link, or both

    @property
    def identity(self) -> str:
        """What makes two links one: the repository for GitHub, else the URL."""
        return f"repo:{self.repo}" if self.repo else self.url


@dataclass(frozen=True)
class Paper:
    """A record after transform: clean fields plus the deduplication key."""

    title: str
    title_key: str
    abstract: str
    published_on: dt.date | None
    author_count: int | None
    links: tuple[Link, ...] = ()
    abstract_key: str = ""
    # The title's folded words, space separated (transform.folded_text), when the transform
    # computed them on the way to title_key: saves deduplication recomputing them. Not data.
    folded_title: str = field(default="", compare=False, repr=False)
    arxiv_id: str | None = None  # the paper's identity where a card gives it (etl.dedup)
    # Its authors' names, (name, Hub user or None) in order, where a capture gives them (paper_authors).
    author_names: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Sighting:
    """A record and the paper it became, with what belongs to this sighting only."""

    record: RawRecord
    paper: Paper
    card: CardFacts = NO_CARD  # this sighting's card values (comment count read from text pages too)


@dataclass(frozen=True)
class ListingDate:
    value: dt.date | None
    source: str | None  # one of LISTED_ON_SOURCES, or None when unknown
    problem: Problem | None = None
