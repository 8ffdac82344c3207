"""``markdown``: a papers page captured as Markdown (web-to-markdown tools, notebook exports,
structured-HTML renderings, crawler summaries).

Each card becomes a record with what it shows: title, abstract, author count or
organisation, date, and the card values (arXiv id, upvotes, comment count,
submitter, GitHub repository and stars, the links inside the abstract). The
cards are read by ``etl.formats.markdown_cards`` with a real Markdown parser, anchored on
each card's paper URL and the page's banners. A Markdown page is parsed whole
(not streamed), so a capture larger than ``MAX_CHARS`` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import LayoutError
from ..records import CardFacts, Problem, RawRecord
from .banners import looks_like_listing_date
from .base import CaptureFormat, Numbered, PageHead
from .markdown_cards import Card, detect_markdown, parse_cards

NAME = "markdown"
MAX_CHARS = 64 * 1024 * 1024  # read whole: about 16 times that in memory while parsing
# What only Markdown holds: a link or reference definition to the site, a heading, a line that is
# a bare huggingface.co URL (one URL per line exports), a crawler's "[LINK: …]". Such a page is
# never read as plain text, whatever the Markdown reader makes of it.
MARKDOWN_SIGNS = re.compile(
    r"\]\(\s*https?://(?:www\.)?(?:huggingface\.co|hf\.co)/"
    r"|^\s*\[[^\]]+\]:\s*https?://"
    r"|^\s*#{1,6}\s+\S"
    r"|^\s*<?https?://(?:www\.)?(?:huggingface\.co|hf\.co)/\S*>?\s*$"
    r"|\[LINK:\s"
)
SURE_OF_SIGNS = 0.95  # above any plain-text format's score
PAPER_LINK = re.compile(r"(?:huggingface\.co|hf\.co)/papers/\d{4}\.\d{4,5}")


def detect(head: PageHead) -> float:
    score = detect_markdown(head.text())
    if any(MARKDOWN_SIGNS.search(line) for _, line in head.lines):
        score = max(score, SURE_OF_SIGNS)
    return score


def listing_date(head: PageHead) -> tuple[str, int] | None:
    """The listing date printed among the banners (``Oct 2``), before the first card."""
    for line_no, line in head.lines:
        if PAPER_LINK.search(line):
            return None  # the first card: the header is over
        if looks_like_listing_date(line):
            return line.strip(), line_no
    return None


def split(lines: Iterator[Numbered], problems: list[Problem]) -> Iterator[RawRecord]:
    page = parse_cards(_text(lines))
    problems.extend(page.problems)
    for card in page.cards:
        yield _record(card)


def _text(lines: Iterator[Numbered]) -> str:
    """The page's text with every line at its own number (skipped lines left blank)."""
    pieces: list[str] = []
    size = 0
    for line_no, line in lines:
        pieces.extend([""] * (line_no - 1 - len(pieces)))
        pieces.append(line)
        size += len(line) + 1
        if size > MAX_CHARS:
            raise LayoutError(
                f"a Markdown capture over {MAX_CHARS // (1024 * 1024)} MB: it is read whole, so it is refused; "
                "split it into pages",
                line_no=line_no,
            )
    return "\n".join(pieces)


def _record(card: Card) -> RawRecord:
    facts = CardFacts(
        arxiv_id=card.arxiv_id,
        upvotes=card.upvotes,
        comments=card.comments,
        github_url=card.github_url,
        github_stars=card.github_stars,
        submitted_by=card.submitted_by,
        organization=card.organization,
        abstract_urls=tuple(card.abstract_links or ()),
    )
    return RawRecord(
        position=card.position,
        line_no=card.line_no,
        raw_title=card.raw_title,
        raw_abstract=card.raw_abstract,
        raw_authors=card.raw_authors,
        authors_line_no=card.authors_line_no,
        raw_published=card.raw_published,
        published_line_no=card.published_line_no,
        card=facts,
    )


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "A papers page captured as Markdown (web-to-markdown tools, notebook exports, structured HTML, crawler "
        "summaries): one record per card, with its arXiv id, upvotes, comments and GitHub repository."
    ),
    detect=detect,
    split=split,
    listing_date=listing_date,
)
