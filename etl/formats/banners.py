"""The page chrome Hugging Face prints above the papers, in the forms real captures show.

Shared by the formats: banners say "this is a papers page" and mark where the
papers begin; the listing date (``Mar 12``) sits among them. Captures print the
banners as plain lines, split over lines, glued together, or with Markdown
(``# Daily Papers``, ``[Subscribe](…)``): ``banner_text`` reduces each form to
its words before comparing, so that one list of banners serves every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LayoutError
from .base import Numbered, PageHead

# Compared casefolded, after banner_text().
BANNER_LINES = frozenset(
    {
        "new",
        "subscribe",
        "daily papers",
        "trending papers",
        "daily",
        "weekly",
        "monthly",
        # "by AK and the research community", with or without the space, or split over lines
        "byak and the research community",
        "by ak and the research community",
        "by",
        "ak",
        "by ak",
        "byak",
        "and the research community",
    }
)
BANNER_PREFIXES = ("get trending papers",)
# The site's navigation, which capture tools keep above the banners (lowercase).
NAVIGATION_TEXTS = frozenset(
    {"hugging face", "models", "datasets", "spaces", "docs", "pricing", "enterprise", "log in", "sign up"}
)
DAILY_PAPERS_BANNER = "daily papers"
SUBSCRIBE = "Subscribe"

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
LISTING_DATE_RE = re.compile(r"^(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})$")

# Markdown decoration around a banner's words: heading marks, list marks, emphasis,
# images, and link targets (the words of "[Subscribe](https://…)" are "Subscribe").
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[图片：[^\]]*\]")
_LINK_TARGET_RE = re.compile(r"\]\([^)]*\)")
_DECORATION_RE = re.compile(r"^[#>*\-\s]+|[\[\]*_`]")


def banner_text(line: str) -> str:
    """The words of a line as a banner would print them: Markdown decoration removed, casefolded."""
    text = line.strip()
    if "[" in text or "#" in text or text.startswith(("-", "*", ">")):
        text = _IMAGE_RE.sub("", text)
        text = _LINK_TARGET_RE.sub("", text)
        text = _DECORATION_RE.sub("", text)
    return " ".join(text.split()).casefold()


def is_banner(line: str) -> bool:
    folded = banner_text(line)
    return folded in BANNER_LINES or folded.startswith(BANNER_PREFIXES)


def looks_like_listing_date(line: str) -> bool:
    match = LISTING_DATE_RE.match(line.strip())
    return bool(match) and match["month"].casefold() in MONTHS


@dataclass(frozen=True)
class TextHeader:
    """What the banner lines above a plain-text page's papers say.

    ``glued_title``: compact pages glue the first title to ``Subscribe``.
    ``blank_separated``: blank lines separate the banners (daily pages), or a
    listing date is printed, so the papers are blank-line separated blocks.
    ``first_body``: the first line after the header (None: the page ends there).
    """

    glued_title: Numbered | None
    blank_separated: bool
    date: Numbered | None
    daily_papers_banner: bool
    first_body: Numbered | None


def read_text_header(lines: Iterator[Numbered]) -> TextHeader:
    """Read banner lines up to the first paper. Raises LayoutError when the page
    has no banner before its first line of text, or nothing but banners."""
    saw_banner = saw_blank = daily_papers = False
    date: Numbered | None = None
    for line_no, line in lines:
        stripped = line.strip()
        if not stripped:
            saw_blank = saw_banner or saw_blank
            continue
        glued = stripped.startswith(SUBSCRIBE) and len(stripped) > len(SUBSCRIBE) and not is_banner(stripped)
        if glued and saw_banner and not saw_blank:
            return TextHeader((line_no, stripped[len(SUBSCRIBE) :].strip()), False, None, daily_papers, None)
        if is_banner(stripped):
            saw_banner = True
            daily_papers = daily_papers or banner_text(stripped) == DAILY_PAPERS_BANNER
            continue
        if saw_banner and date is None and looks_like_listing_date(stripped):
            date = (line_no, stripped)
            continue
        if not saw_banner:
            raise LayoutError(
                "unknown layout: no Hugging Face papers banner ('Get trending papers…', 'Subscribe') before the "
                f"first paper (line {line_no}: {_shown(stripped)})",
                line_no=line_no,
            )
        return TextHeader(None, saw_blank or date is not None, date, daily_papers, (line_no, line))
    raise LayoutError("unknown layout: only banner lines, no paper; capture the page again")


def text_header(head: PageHead) -> TextHeader | None:
    """The head's text header, read once for all detectors; None when the head has none."""

    def read() -> TextHeader | None:
        try:
            return read_text_header(iter(head.lines))
        except LayoutError:
            return None

    return head.memo("text_header", read)


def header_listing_date(head: PageHead) -> Numbered | None:
    header = text_header(head)
    if header is None or header.date is None:
        return None
    line_no, text = header.date
    return text, line_no


def _shown(line: str, limit: int = 60) -> str:
    flat = " ".join(line.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
