"""``daily``: a daily listing copied as plain text.

Blank-line separated: banner lines (``new``, ``Get trending papers…``,
``Subscribe``, ``by AK and the research community``), the listing date without
a year (``Mar 12``), then title and abstract blocks. A title or abstract
wrapped over several lines is one block, joined with a space. The block
splitter here also serves ``daily_meta``, whose cards carry metadata blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..records import LEVEL_RECORD, Problem, RawRecord, excerpt
from .banners import header_listing_date, read_text_header, text_header
from .base import CaptureFormat, Numbered, PageHead
from .card_lines import is_author_line, is_count_line, is_date_line, is_meta_line, is_separator

NAME = "daily"
LINE_BREAK_MARK = "\\"  # some tools end a hard-wrapped line with a backslash

Block = list[Numbered]  # consecutive non-blank lines


def blocks(lines: Iterator[Numbered]) -> Iterator[Block]:
    """Runs of non-blank lines, as the blank lines of the page separate them."""
    for is_text, run in itertools.groupby(lines, key=lambda numbered: bool(numbered[1].strip())):
        if is_text:
            yield list(run)


def joined(block: Block) -> str:
    """A field wrapped over the lines of a block, as one line (a single line is kept verbatim)."""
    if len(block) == 1:
        return block[0][1]
    parts = []
    for _, line in block:
        text = line.strip()
        if text.endswith(LINE_BREAK_MARK) and not text.endswith(LINE_BREAK_MARK * 2):
            text = text[:-1].rstrip()
        parts.append(text)
    return " ".join(part for part in parts if part)


def is_meta_block(block: Block) -> bool:
    """A block of card metadata: it starts with an author line, or holds the ``·`` separator."""
    return is_author_line(block[0][1]) or any(is_separator(line) for _, line in block)


def continues_meta(block: Block) -> bool:
    """A block that can only belong to the metadata before it (a date or count after a blank line)."""
    return all(is_meta_line(line) or is_date_line(line) or is_count_line(line) for _, line in block)


def first_blocks_have_meta(head: PageHead, count: int = 3) -> bool:
    """Whether metadata follows among the first records: decides ``daily`` from ``daily_meta``."""
    header = text_header(head)
    if header is None or header.first_body is None:
        return False
    start = next(i for i, numbered in enumerate(head.lines) if numbered == header.first_body)
    first = itertools.islice(blocks(iter(head.lines[start:])), count)
    return any(is_meta_block(block) for block in first)


@dataclass
class _Card:
    title: Block
    abstract: Block | None = None
    meta: list[Numbered] = field(default_factory=list)


def split_blocks(lines: Iterator[Numbered], problems: list[Problem]) -> Iterator[RawRecord]:
    """Records of a blank-line separated page: title block, abstract block, and optionally a
    metadata block (author line or organisation, ``·``, date, comment count)."""
    header = read_text_header(lines)
    body = itertools.chain([header.first_body] if header.first_body else [], lines)
    position = 0
    card: _Card | None = None
    for block in blocks(body):
        if card is not None and card.meta and continues_meta(block):
            card.meta.extend(block)
            continue
        if card is not None and is_meta_block(block):
            if card.abstract is None:
                problems.append(_truncated(card))
                card = None
            else:
                card.meta.extend(block)
            continue
        if card is not None and card.abstract is None:
            card.abstract = block
            continue
        if card is not None:
            position += 1
            yield _record(card, position)
        card = _Card(block)
    if card is not None and card.abstract is None:
        problems.append(_truncated(card))
    elif card is not None:
        yield _record(card, position + 1)


def _truncated(card: _Card) -> Problem:
    return Problem(
        LEVEL_RECORD,
        "title without abstract: the record is cut short; capture the page again",
        card.title[0][0],
        excerpt(joined(card.title)),
    )


def _record(card: _Card, position: int) -> RawRecord:
    meta = _meta_fields(card.meta)
    return RawRecord(position, card.title[0][0], joined(card.title), joined(card.abstract), **meta)


def _meta_fields(lines: list[Numbered]) -> dict:
    """Which metadata line says what: the author line (or the organisation printed in its
    place, before ``·``), the date (the line after ``·``, whatever it says), the comment count."""
    fields: dict = {}
    after_separator = False
    for line_no, line in lines:
        if is_separator(line):
            after_separator = True
        elif "raw_authors" not in fields and (is_author_line(line) or not after_separator):
            fields["raw_authors"], fields["authors_line_no"] = line, line_no
        elif "raw_published" not in fields and (after_separator or is_date_line(line)):
            fields["raw_published"], fields["published_line_no"] = line, line_no
        elif "raw_comments" not in fields and is_count_line(line):
            fields["raw_comments"], fields["comments_line_no"] = line, line_no
    return fields


def detect(head: PageHead) -> float:
    header = text_header(head)
    if header is None or header.glued_title or not header.blank_separated:
        return 0.0
    return 0.5 if first_blocks_have_meta(head) else 0.8


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "A daily listing as plain text: banners, the listing date without a year, then blank-line separated "
        "title and abstract blocks."
    ),
    detect=detect,
    split=split_blocks,
    listing_date=header_listing_date,
)
