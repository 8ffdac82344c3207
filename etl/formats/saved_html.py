"""Saved HTML of a Hugging Face papers page: a pure, streaming parser (bytes in, entries out).

A papers page (daily, weekly, monthly, trending, search) is server-rendered Svelte:
its cards travel as JSON in one component's ``data-props`` attribute,
``<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[…]}">``.
That JSON is what is read, never the rendered cards: it holds what the cards show
and more (authors' names, the listing time, the GitHub repository and its stars).
Its shapes, as public scrapers of these pages read them:

- daily, weekly and monthly pages: ``{"dailyPapers": [entry…], "dateString": "2025-03-14",
  "periodType": "day" | "week" | "month", …}``;
- the trending page: ``{"dailyPapers": [entry…], …}``;
- a search page (``/papers?q=…``): ``{"query": {"q": …}, "searchResults": [entry…], …}``.

Each entry has the daily papers API's shape (``etl.papers_api`` reads it: the same
``ApiEntry`` records, the same problems). The first card list in the data is read
(``dailyPapers`` or ``searchResults``); ``props`` keeps the data's other top-level keys.

The HTML is read by libxml2's HTML parser (lxml), fed in chunks, with a parser target
that keeps no tree: only the cards' ``data-props`` string (one copy of the cards' data,
the only part of the page held in memory) and the page's URL (``<link rel=canonical>``,
``og:url``, or a browser's ``<!-- saved from url=… -->``). A page without that data (a page
saved after scripts replaced it, or another site's page) is refused with a ``LayoutError``
that says what was seen. A page is UTF-8, like every capture (a BOM is skipped; a byte
that is not UTF-8 is an ``EncodingError`` naming its offset, never a guessed encoding).
Nothing here touches files or a database.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ..errors import EncodingError, JsonInputError, LayoutError
from ..records import Capture, Problem
from .base import CaptureFormat
from .papers_api import PAGE_KEYS, ApiEntry, ApiStream, line_bytes, record_from_entry
from .wrapper import page_kind

if TYPE_CHECKING:
    from lxml import etree

# lxml is imported where an HTML page is parsed (each function below): most runs never read one.

PROPS_TARGET = "DailyPapers"  # the Svelte component that carries the papers of every papers page
FEED_CHARS = 64 * 1024  # text handed to the HTML parser at a time
SLICE_CHARS = 64 * 1024  # the cards' JSON handed to the JSON parser at a time
DETECT_CHARS = 16 * 1024
SAVED_FROM_RE = re.compile(r"saved from url=\(\d+\)\s*(\S+)", re.IGNORECASE)
HTML_START_RE = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|link|div|main)\b", re.IGNORECASE | re.DOTALL
)
PAPERS_URL_RE = re.compile(r"^https?://(?:www\.)?huggingface\.co/papers(?:[/?#]|$)", re.IGNORECASE)
AGAIN = "save the page again (after it has fully loaded), or get the day with papers-etl fetch"


class _PageTarget:
    """lxml parser target: keeps the cards' data-props and the page's URL, builds nothing."""

    def __init__(self) -> None:
        self.props: str | None = None
        self.props_target: str | None = None
        self.targets: list[str] = []  # data-target names of the components seen (for messages)
        self.canonical: str | None = None
        self.og_url: str | None = None
        self.saved_from: str | None = None
        self.tags = 0
        self._in_title = False
        self.title_parts: list[str] = []

    def start(self, tag: str, attrib) -> None:
        self.tags += 1
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag == "title":
            self._in_title = True
        elif tag == "link" and "canonical" in (attrib.get("rel") or "").lower().split():
            self.canonical = self.canonical or attrib.get("href")
        elif tag == "meta" and (attrib.get("property") or attrib.get("name")) == "og:url":
            self.og_url = self.og_url or attrib.get("content")
        props = attrib.get("data-props")
        if props is None:
            return
        target = attrib.get("data-target") or "?"
        if len(self.targets) < 20:
            self.targets.append(target)
        if self.props_target == PROPS_TARGET:
            return  # the cards are found: other components' data is not kept
        if target == PROPS_TARGET or (self.props is None and any(f'"{key}"' in props for key in PAGE_KEYS)):
            self.props, self.props_target = props, target

    def end(self, tag: str) -> None:
        if isinstance(tag, str) and tag.lower() == "title":
            self._in_title = False

    def data(self, text: str) -> None:
        if self._in_title and sum(map(len, self.title_parts)) < 500:
            self.title_parts.append(text)

    def comment(self, text: str) -> None:
        match = SAVED_FROM_RE.search(text)
        if match and self.saved_from is None:
            self.saved_from = match.group(1)

    def close(self) -> _PageTarget:
        return self

    @property
    def title(self) -> str:
        return " ".join("".join(self.title_parts).split())


def _parser(target: _PageTarget) -> etree.HTMLParser:
    from lxml import etree

    # huge_tree: without it libxml2 silently empties an attribute over 10 MB (a month's cards can be more).
    return etree.HTMLParser(target=target, huge_tree=True, remove_comments=False, no_network=True)


def _close(parser: etree.HTMLParser) -> None:
    """Flush what libxml2 still buffers (an empty or cut document is no error here: the target says)."""
    from lxml import etree

    with contextlib.suppress(etree.XMLSyntaxError):
        parser.close()


def _decoded(chunks: Iterable[bytes]) -> Iterator[str]:
    """The chunks as UTF-8 text (a BOM dropped); a byte that is not UTF-8 is an EncodingError."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    first = True
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            at = offset + exc.start
            raise EncodingError(
                f"not UTF-8 (byte 0x{chunk[exc.start]:02x} at offset {at:,}); save the page as UTF-8"
            ) from None
        offset += len(chunk)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise EncodingError(f"not UTF-8 (the file ends inside a character at offset {offset:,})") from None
    if tail:
        yield tail


class SavedHtml:
    """A saved papers page. Making it reads the HTML (in chunks, up to the cards' data);
    ``entries()`` yields the cards; ``problems`` holds their record and field problems;
    ``page_url``, ``title`` and ``props`` (the data's other keys: ``dateString``,
    ``periodType``, ``query``…) say what page it is."""

    def __init__(self, chunks: Iterable[bytes]):
        target = _PageTarget()
        parser = _parser(target)
        for text in _decoded(chunks):
            for start in range(0, len(text), FEED_CHARS):
                parser.feed(text[start : start + FEED_CHARS])
            if target.props_target == PROPS_TARGET:
                break  # the cards are found; the rest of the page is not needed
        else:
            _close(parser)
        self.page_url = target.canonical or target.og_url or target.saved_from
        self.title = target.title
        self.component = target.props_target
        if not target.tags:
            raise LayoutError("not an HTML page: no HTML element in it")
        if target.props is None:
            raise LayoutError(self._no_data_reason(target))
        if not target.props.strip():
            raise LayoutError(
                f"the page's {target.props_target} component has empty data-props: the cards are not in it; {AGAIN}"
            )
        self._props: str | None = target.props
        self._stream: ApiStream | None = None
        self.problems: list[Problem] = []
        self.props: dict = {}
        self.page_key: str | None = None

    @staticmethod
    def _no_data_reason(target: _PageTarget) -> str:
        names = ", ".join(repr(name[:40]) for name in sorted(set(target.targets)))
        seen = f"components seen: {names}" if names else "no data-props at all"
        what = f"the page {target.title!r}" if target.title else "the page"
        return (
            f"an HTML page without the papers' data: {what} has no {PROPS_TARGET} component with "
            f"dailyPapers or searchResults in its data-props ({seen}); {AGAIN}"
        )

    def entries(self) -> Iterator[ApiEntry]:
        props, self._props = self._props, None  # read once; the string is dropped when done
        if props is None:
            return
        slices = (props[start : start + SLICE_CHARS].encode("utf-8") for start in range(0, len(props), SLICE_CHARS))
        stream = ApiStream(slices, page_props_only=True, again=AGAIN)
        self._stream = stream
        try:
            yield from stream.entries()
        except JsonInputError as exc:
            raise JsonInputError(f"the cards' data in the page's {self.component} component: {exc.reason}") from None
        finally:
            self.problems, self.props, self.page_key = stream.problems, stream.props, stream.page_key


def parse_saved_html(chunks: Iterable[bytes], problems: list[Problem] | None = None) -> Iterator[ApiEntry]:
    """The cards of a saved papers page, as ``ApiEntry``s; their problems go to ``problems``."""
    page = SavedHtml(chunks)
    try:
        yield from page.entries()
    finally:
        if problems is not None:
            problems.extend(page.problems)


def detect_saved_html(head: str) -> float:
    """How sure (0..1) it is that ``head`` (the first few KB of a file) starts a saved
    Hugging Face papers page. Any HTML page gets a little (so that one without the cards'
    data is refused by this format, with its reason, rather than as an unknown layout)."""
    head = head[:DETECT_CHARS].removeprefix("\ufeff")
    if not HTML_START_RE.match(head):
        return 0.0
    from lxml import etree

    target = _PageTarget()
    parser = _parser(target)
    try:
        parser.feed(head)
    except etree.XMLSyntaxError:
        return 0.0
    _close(parser)
    url = target.canonical or target.og_url or target.saved_from or ""
    score = 0.3
    if PAPERS_URL_RE.match(url):
        score += 0.6
    elif "hugging face" in target.title.lower() and "papers" in target.title.lower():
        score += 0.5
    if target.props_target == PROPS_TARGET or any(t == PROPS_TARGET for t in target.targets):
        score += 0.6
    return round(min(score, 1.0), 2)


# --------------------------------------------------------------------------- as a capture format

NAME = "saved_html"


def split(lines, problems: list[Problem]):
    page = SavedHtml(line_bytes(lines))
    try:
        for entry in page.entries():
            yield record_from_entry(entry)
    finally:
        problems.extend(page.problems)


def detect(head) -> float:
    return detect_saved_html(head.text())


def capture(head) -> Capture | None:
    """The page's own address (canonical link, og:url, a browser's "saved from" comment), read from the head."""
    from lxml import etree

    target = _PageTarget()
    parser = _parser(target)
    with contextlib.suppress(etree.XMLSyntaxError):
        parser.feed(head.text())
    url = target.canonical or target.og_url or target.saved_from
    if not url:
        return None
    kind, listed_on = page_kind(url)
    return Capture(url, kind, None, listed_on)


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "A saved Hugging Face papers page (a browser's 'save page', a crawler's HTML): the cards are read from the "
        "JSON the page carries in its DailyPapers component's data-props, one record per card."
    ),
    detect=detect,
    split=split,
    capture=capture,
)
