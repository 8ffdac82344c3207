"""The metadata lines printed under a paper on a papers page, recognised by what they say.

``  • 13 authors`` (or ``- 13 authors``, ``* 1 author``, ``13 authors``), a ``·``
separator, a date (``Jun 7, 2023``, ``May 29``, ``Published on Dec 28, 2024``)
with perhaps the comment count after it (``May 29 6``, ``Mar 13 [ 3]``), or the
comment count on a line of its own. The splitters use these to tell metadata
from an abstract (an abstract may begin with ``•``); the transform parses them.
"""

from __future__ import annotations

import re

SEPARATOR = "·"
# An author line: a mark, one word for the count ("13", or "many": then the count is unreadable), "author(s)".
AUTHOR_LINE_RE = re.compile(r"^\s*(?:[•*\-]\s*)?(?P<count>[^\s•*\-]\S{0,11})\s+authors?\s*$", re.IGNORECASE)
AUTHOR_COUNT_RE = re.compile(r"^\s*(?:[•*\-]\s*)?(?P<count>\d{1,6})\s+authors?\s*$", re.IGNORECASE)
# A date as the card prints it, and a comment count glued after it.
DATE_LINE_RE = re.compile(
    r"^\s*(?:published\s+on\s+)?(?P<date>[A-Za-z]{3,9}\.?\s+\d{1,2}(?:,\s*\d{4})?)"
    r"(?:(?:\s+|\s*\[)\s*(?P<comments>\d{1,6})\s*\]?)?\s*$",
    re.IGNORECASE,
)
COUNT_LINE_RE = re.compile(r"^\s*\[?\s*(?P<count>\d{1,6})\s*\]?\s*$")


def is_author_line(line: str) -> bool:
    return AUTHOR_LINE_RE.match(line) is not None


def is_separator(line: str) -> bool:
    return line.strip() == SEPARATOR


def is_date_line(line: str) -> bool:
    return DATE_LINE_RE.match(line) is not None


def is_count_line(line: str) -> bool:
    return COUNT_LINE_RE.match(line) is not None


def is_meta_line(line: str) -> bool:
    """A line that can only be metadata: an author line or the separator."""
    return is_author_line(line) or is_separator(line)
