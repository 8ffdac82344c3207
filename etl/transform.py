"""Transform: raw records into clean papers.

Where each field is parsed: titles and abstracts (``clean_text``), the
deduplication key (``title_key``), publication dates (``parse_published_on``),
author counts (``parse_author_count``), listing dates (``resolve_listed_on``) and
links (``etl.links.extract_links``). Everything here is pure: strings in,
dataclasses out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from dateutil import parser as dateparser

from .extract import LISTING_DATE_RE, MONTHS
from .links import extract_links
from .records import (
    LEVEL_FIELD,
    LEVEL_RECORD,
    LISTED_ON_FILE_NAME,
    LISTED_ON_HEADER,
    LISTED_ON_OPTION,
    ListingDate,
    Paper,
    Problem,
    RawRecord,
    excerpt,
)

# A date in a file name: 2026-03-12 or 20260312, standing alone (not touching a
# letter or digit), so that hex hashes such as "39951104f2" are not read as dates.
FILE_NAME_DATE_RE = re.compile(r"(?<![A-Za-z0-9])(\d{4})-?(\d{2})-?(\d{2})(?![A-Za-z0-9])")
FILE_NAME_YEARS = range(1990, 2100)
AUTHORS_RE = re.compile(r"^\s*•\s*(\d+)\s+authors?\s*$", re.IGNORECASE)
# Daily pages print a count (upvotes) after some dates: "May 25, 2025 2".
TRAILING_COUNT_RE = re.compile(r"^(?P<date>.*?\d{4})\s+\d{1,6}$")
FOUR_DIGIT_YEAR_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")
LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
# Two defaults that differ in every field: a part the text does not give shows up as a difference.
_PROBE_DEFAULTS = (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2))
# A header date is resolved to a year at most this far before the file's mtime (covers Feb 29).
HEADER_YEAR_LOOKBACK = 8


def clean_text(text: str) -> str:
    """Unicode NFC and white space collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def title_key(title: str) -> str:
    """The deduplication key: the same paper gives the same key whatever its markup.

    Accents, case, punctuation, white space, hyphenation and LaTeX math markup
    ("SE$(n)$" / "SE(n)") do not change the key.
    """
    text = LATEX_COMMAND_RE.sub("", title)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def parse_published_on(raw: str) -> dt.date:
    """A publication date such as "Jun 7, 2023" (a trailing count is ignored).

    Strict: a missing part, or a day that does not exist, raises ValueError.
    """
    text = raw.strip()
    match = TRAILING_COUNT_RE.match(text)
    if match:
        text = match["date"]
    try:
        first, second = (dateparser.parse(text, default=d) for d in _PROBE_DEFAULTS)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"publication date {raw.strip()!r} is not a real date ({exc})") from None
    if first != second or first.time() != dt.time() or not FOUR_DIGIT_YEAR_RE.search(text):
        raise ValueError(f"publication date {raw.strip()!r} is not a full date (month, day and year)")
    return first.date()


def parse_author_count(raw: str) -> int:
    """ "  • 13 authors" -> 13. Raises ValueError for anything else."""
    match = AUTHORS_RE.match(raw)
    if not match or int(match[1]) < 1:
        raise ValueError(f"author count {raw.strip()!r} is not '• N authors' with N ≥ 1")
    return int(match[1])


def transform_record(record: RawRecord) -> tuple[Paper | None, list[Problem]]:
    """One raw record to a Paper. A bad field is NULL plus a field-level Problem;
    a record that cannot be a paper at all is None plus a record-level Problem."""
    title = clean_text(record.raw_title)
    key = title_key(title)
    if not key:
        reason = "title has no letter or digit; check that the page was captured whole"
        return None, [Problem(LEVEL_RECORD, reason, record.line_no, excerpt(record.raw_title))]
    problems: list[Problem] = []
    published_on = _field(parse_published_on, record.raw_published, record.published_line_no, problems)
    author_count = _field(parse_author_count, record.raw_authors, record.authors_line_no, problems)
    paper = Paper(
        title=title,
        title_key=key,
        abstract=clean_text(record.raw_abstract or ""),
        published_on=published_on,
        author_count=author_count,
        links=extract_links(record.raw_abstract or ""),
    )
    return paper, problems


def _field(parse, raw: str | None, line_no: int | None, problems: list[Problem]):
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        problems.append(Problem(LEVEL_FIELD, f"{exc}; loaded as NULL", line_no, excerpt(raw)))
        return None


def resolve_listed_on(
    header_date: str | None,
    file_name: str,
    mtime: float | None,
    option: dt.date | None = None,
    header_line_no: int | None = None,
) -> ListingDate:
    """The page's listing date and the rule that gave it.

    Order: the --listed-on option; a date in the file name; the header's month
    and day in the latest year where that date is not after the file's
    modification date (local time); otherwise unknown.
    """
    if option is not None:
        return ListingDate(option, LISTED_ON_OPTION)
    from_name = date_in_file_name(file_name)
    if from_name is not None:
        return ListingDate(from_name, LISTED_ON_FILE_NAME)
    if header_date is None or mtime is None:
        return ListingDate(None, None)
    match = LISTING_DATE_RE.match(header_date.strip())
    month = MONTHS.get(match["month"].casefold()) if match else None
    latest = dt.datetime.fromtimestamp(mtime).date()
    if month is not None:
        for year in range(latest.year, latest.year - HEADER_YEAR_LOOKBACK, -1):
            try:
                candidate = dt.date(year, month, int(match["day"]))
            except ValueError:
                continue
            if candidate <= latest:
                return ListingDate(candidate, LISTED_ON_HEADER)
    problem = Problem(
        LEVEL_FIELD,
        f"listing date {header_date!r} is not a real month and day; listed_on is NULL (pass --listed-on YYYY-MM-DD)",
        header_line_no,
        excerpt(header_date),
    )
    return ListingDate(None, None, problem)


def date_in_file_name(file_name: str) -> dt.date | None:
    """The first real calendar date (YYYY-MM-DD or YYYYMMDD) in a file name."""
    for match in FILE_NAME_DATE_RE.finditer(file_name):
        if int(match[1]) not in FILE_NAME_YEARS:
            continue
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def merge_sightings(kept: Paper, seen: Paper) -> Paper:
    """Combine two sightings of one paper (same title_key).

    The kept sighting's title and abstract stay; a field it lacks (NULL date or
    author count) is filled from the other sighting; links are the union.
    """
    extra_links = tuple(link for link in seen.links if link not in kept.links)
    return Paper(
        title=kept.title,
        title_key=kept.title_key,
        abstract=kept.abstract,
        published_on=kept.published_on if kept.published_on is not None else seen.published_on,
        author_count=kept.author_count if kept.author_count is not None else seen.author_count,
        links=kept.links + extra_links,
    )
