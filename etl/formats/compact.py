"""``compact``: search results or a trending page copied as plain text.

Two ``Get trending papers…`` banner lines, then ``Subscribe`` glued to the
first title (or on a line of its own); then title and abstract lines
alternate, with no blank lines, no dates and no author counts. Nothing on such
a page tells a wrapped line from the next field, so each line is one field.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ..records import LEVEL_RECORD, Problem, RawRecord, excerpt
from .banners import read_text_header, text_header
from .base import CaptureFormat, Numbered, PageHead

NAME = "compact"


def split(lines: Iterator[Numbered], problems: list[Problem]) -> Iterator[RawRecord]:
    header = read_text_header(lines)
    first = [header.glued_title] if header.glued_title else [header.first_body] if header.first_body else []
    body = (numbered for numbered in itertools.chain(first, lines) if numbered[1].strip())
    for position, (line_no, title) in enumerate(body, start=1):
        abstract = next(body, None)
        if abstract is None:
            reason = "title without abstract: the record is cut short; capture the page again"
            problems.append(Problem(LEVEL_RECORD, reason, line_no, excerpt(title)))
            return
        yield RawRecord(position, line_no, title, abstract[1])


def detect(head: PageHead) -> float:
    header = text_header(head)
    if header is None:
        return 0.0
    if header.glued_title:
        return 0.9
    return 0.0 if header.blank_separated else 0.8


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "Search results or a trending page as plain text: 'Subscribe' glued to the first title, then title "
        "and abstract lines alternating, with no blank lines."
    ),
    detect=detect,
    split=split,
)
