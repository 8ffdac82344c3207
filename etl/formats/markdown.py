"""``markdown``: a papers page captured as Markdown (web-to-markdown tools, notebook exports).

Recognised so that such a page is refused with a reason, never read as plain
text (its links, headings and URL lines would load as junk titles and
abstracts). Reading its cards, with their arXiv ids, upvotes and comment
counts, is the next step; until then every Markdown capture is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import LayoutError
from ..records import Problem, RawRecord
from .base import CaptureFormat, Numbered, PageHead

NAME = "markdown"
# What only a Markdown capture of a papers page holds: a link or reference definition to a paper
# or to the site, a heading, a line that is a bare huggingface.co URL (one URL per line exports).
MARKDOWN_SIGNS = re.compile(
    r"\]\(\s*https?://(?:www\.)?(?:huggingface\.co|hf\.co)/"
    r"|^\s*\[[^\]]+\]:\s*https?://"
    r"|^\s*#{1,6}\s+\S"
    r"|^\s*<?https?://(?:www\.)?(?:huggingface\.co|hf\.co)/\S*>?\s*$"
    r"|\[LINK:\s"
)


def first_sign(lines) -> Numbered | None:
    return next(((n, line) for n, line in lines if MARKDOWN_SIGNS.search(line)), None)


def detect(head: PageHead) -> float:
    return 0.95 if first_sign(head.lines) is not None else 0.0


def split(lines: Iterator[Numbered], problems: list[Problem]) -> Iterator[RawRecord]:
    sign = first_sign(lines)
    line_no = sign[0] if sign else None
    shown = " ".join(sign[1].split())[:60] if sign else ""
    raise LayoutError(
        f"a Markdown capture of a Hugging Face papers page ({shown!r}): Markdown cards are not read yet, "
        "so the page is refused rather than loaded as junk; load a plain-text copy of the page instead",
        line_no=line_no,
    )


FORMAT = CaptureFormat(
    name=NAME,
    description="A papers page captured as Markdown: recognised and refused (its cards are not read yet).",
    detect=detect,
    split=split,
)
