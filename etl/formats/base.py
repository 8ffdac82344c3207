"""What a capture format is: a name, a detector and a splitter.

A format module builds one ``CaptureFormat`` and ``etl.formats`` registers it.
Detectors look at the page's head (its first lines, after the capture tool's
wrapper) and say how sure they are, from 0 (not this format) to 1; the surest
wins. Splitters turn the page's numbered lines into ``RawRecord``s, lazily, so
that memory does not grow with the file. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..records import Capture, Problem, RawRecord

Numbered = tuple[int, str]  # (1-based line number, line)
DETECT_CHARS = 64 * 1024  # of a page's head, what detectors that parse it read


@dataclass(frozen=True)
class PageHead:
    """The first lines of a page (after its capture wrapper) and what the wrapper said."""

    lines: tuple[Numbered, ...]
    capture: Capture = field(default_factory=Capture)
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def text(self) -> str:
        """The head as text, at most DETECT_CHARS of it: what detectors that parse text look at."""

        def join() -> str:
            pieces, size = [], 0
            for _, line in self.lines:
                pieces.append(line)
                size += len(line) + 1
                if size >= DETECT_CHARS:
                    break
            return "\n".join(pieces)[:DETECT_CHARS]

        return self.memo("text", join)

    def memo(self, key: str, compute: Callable[[], object]) -> object:
        """``compute()`` once per head: several detectors share one reading of the banners."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


Splitter = Callable[[Iterator[Numbered], list[Problem]], Iterator[RawRecord]]


@dataclass(frozen=True)
class CaptureFormat:
    """One way a papers page can be captured (a layout of plain text, a Markdown style, …).

    ``detect(head)``: how sure, 0..1, that the page is in this format.
    ``split(lines, problems)``: the page's records from its lines (the page's own
    header included), appending record-level problems (a record cut short) to
    ``problems``; raises LayoutError when the page cannot be read with confidence.
    ``listing_date(head)``: the listing date as printed in the page header and its
    line number (``("Mar 12", 9)``), or None.
    ``capture(head)``: what the page itself says of its capture (a saved page's own
    URL), where the capture tool's wrapper says nothing; or None.
    """

    name: str
    description: str
    detect: Callable[[PageHead], float]
    split: Splitter
    listing_date: Callable[[PageHead], tuple[str, int] | None] = lambda head: None
    capture: Callable[[PageHead], Capture | None] = lambda head: None
