"""Capture formats as plug-ins: one module per format, registered here.

A format (``base.CaptureFormat``) is a name, a detector that looks at the head
of a page and says how sure it is, and a splitter from numbered lines to raw
records. ``PageStream`` skips the capture tool's wrapper (``wrapper``), asks
every registered format, takes the surest, and refuses a page that no format
claims or that two claim as surely. A new format is a module, a line in
``_BUILT_IN`` and its tests: nothing in extract, transform or load changes, and
no migration (``source_files.layout`` refers to the ``capture_formats`` table,
which each load fills from this registry).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from ..errors import LayoutError
from ..records import Problem, RawRecord
from . import compact, daily, daily_meta, markdown, papers_api, saved_html
from .banners import read_text_header
from .base import CaptureFormat, Numbered, PageHead
from .wrapper import read_wrapper

__all__ = [
    "CaptureFormat",
    "Numbered",
    "PageHead",
    "PageStream",
    "by_name",
    "detect",
    "formats",
    "register",
    "unregister",
]

# How much of a page detection reads: wrappers (front matter, navigation) and banners fit well inside.
HEAD_LINES = 200
HEAD_CHARS = 1 << 20  # and at most this much text (a minified JSON or HTML file has few, long lines)
_BUILT_IN = (compact.FORMAT, daily.FORMAT, daily_meta.FORMAT, markdown.FORMAT, papers_api.FORMAT, saved_html.FORMAT)
_REGISTRY: dict[str, CaptureFormat] = {}
# An anchor a capture tool puts between sections (<a id="source-section-3"></a>): never page text.
ANCHOR_RE = re.compile(r"^\s*<a\s+(?:id|name)\s*=\s*\"[^\"]*\"\s*>\s*</a>\s*$", re.IGNORECASE)


def register(capture_format: CaptureFormat) -> None:
    """Add a format. Its name goes into ``source_files.layout`` (through ``capture_formats``)."""
    if capture_format.name in _REGISTRY:
        raise ValueError(f"a capture format named {capture_format.name!r} is already registered")
    _REGISTRY[capture_format.name] = capture_format


def unregister(name: str) -> None:
    del _REGISTRY[name]


def formats() -> tuple[CaptureFormat, ...]:
    return tuple(_REGISTRY.values())


def by_name(name: str) -> CaptureFormat:
    return _REGISTRY[name]


for _format in _BUILT_IN:
    register(_format)


def detect(head: PageHead) -> CaptureFormat:
    """The surest format for a page. Raises LayoutError when none claims it or two claim it as surely."""
    scores = sorted(((fmt.detect(head), fmt.name) for fmt in _REGISTRY.values()), reverse=True)
    best, name = scores[0] if scores else (0.0, "")
    if best <= 0:
        raise _unknown_layout(head)
    tied = [other for score, other in scores[1:] if score == best]
    if tied:
        names = " and ".join(repr(n) for n in [name, *tied])
        first = next(((n, line) for n, line in head.lines if line.strip()), (None, ""))
        raise LayoutError(
            f"ambiguous layout: the page reads as {names} equally well; cannot load it with confidence "
            "(report the file so its format can be told apart)",
            line_no=first[0],
        )
    return _REGISTRY[name]


def _unknown_layout(head: PageHead) -> LayoutError:
    """Why no format claims the page, in the words of the plain-text header reader where it has some."""
    try:
        read_text_header(iter(head.lines))
    except LayoutError as exc:
        return exc
    first = next(((n, line) for n, line in head.lines if line.strip()), (None, ""))
    return LayoutError(
        f"unknown layout: no known capture format matches the start of the page; known formats: {', '.join(_REGISTRY)}",
        line_no=first[0],
    )


def _head(lines: Iterator[Numbered]) -> list[Numbered]:
    """The first HEAD_LINES lines, or fewer when they hold HEAD_CHARS of text (at least one line)."""
    head: list[Numbered] = []
    size = 0
    for numbered in lines:
        head.append(numbered)
        size += len(numbered[1])
        if len(head) >= HEAD_LINES or size >= HEAD_CHARS:
            break
    return head


class PageStream:
    """A page read line by line: its wrapper, format and header are read when the stream
    is made (from the head only), its records are yielded one at a time, so memory does not
    grow with the file. ``problems`` holds the page's record-level problems (records cut
    short) once ``records()`` is exhausted; ``capture.problems`` the wrapper's."""

    def __init__(self, lines: Iterable[Numbered]):
        lines = (numbered for numbered in lines if not ANCHOR_RE.match(numbered[1]))
        head_lines = _head(lines)
        self.capture, start = read_wrapper(head_lines)
        head = PageHead(tuple(head_lines[start:]), self.capture)
        self.format = detect(head)
        if self.capture.page_url is None:
            self.capture = self.format.capture(head) or self.capture
        self.layout = self.format.name
        date = self.format.listing_date(head)
        self.header_date, self.header_date_line_no = date if date else (None, None)
        self.problems: list[Problem] = []
        self._lines = itertools.chain(head.lines, lines)

    def records(self) -> Iterator[RawRecord]:
        """The page's records in order. Raises LayoutError at the end if there was none."""
        count = 0
        for count, record in enumerate(self.format.split(self._lines, self.problems), start=1):  # noqa: B007
            yield record
        if count == 0:
            raise LayoutError(f"a {self.layout} page with no paper on it; capture the page again")
