"""What capture tools put around a page: skipped, and what it says kept.

Tools wrap the page they capture: YAML front matter (``url``, ``retrieved``,
``exported``, ``title``), a heading with a bullet list of source facts
(``- Source URL: …``), ``**URL:**`` / ``**Page Title:**`` lines, the site's
navigation (Models, Datasets, Spaces, …). The page itself starts at its first
Hugging Face banner (``new``, ``Get trending papers…``, ``Subscribe``, …):
whatever comes before is the wrapper. From it come the page's URL, and so its
kind and, for a dated page, its listing date, and the capture time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from ..records import (
    LEVEL_FIELD,
    PAGE_DAILY,
    PAGE_MONTHLY,
    PAGE_SEARCH,
    PAGE_TRENDING,
    PAGE_UNKNOWN,
    PAGE_WEEKLY,
    Capture,
    Problem,
    excerpt,
)
from .banners import is_banner
from .base import Numbered

FRONT_MATTER_FENCE = "---"
FRONT_MATTER_END = ("---", "...")
FRONT_MATTER_MAX_LINES = 100
# Keys that name the captured page's address, and the moment of capture, best first.
URL_KEYS = ("url", "source url", "source_url", "page url", "page_url", "sourceurl", "og:url", "link", "source")
CAPTURED_KEYS = (
    "captured_at",
    "captured",
    "retrieved",
    "retrieved_at",
    "fetched",
    "fetched_at",
    "scraped_at",
    "crawled_at",
    "exported",
    "exported_at",
    "date",
)
# "- Source URL: https://…", "**URL:** https://…", "Retrieved: 2026-10-02" (a fact line of a wrapper).
FACT_LINE_RE = re.compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*)?(?P<key>[A-Za-z][A-Za-z _:-]{0,30}?)(?:\*\*)?\s*:\s*(?:\*\*)?\s*(?P<value>\S.*)$"
)
HF_HOSTS = ("huggingface.co", "hf.co")
DATE_PATH_RE = re.compile(r"^/papers/date/(?P<date>\d{4}-\d{2}-\d{2})$")
WEEK_PATH_RE = re.compile(r"^/papers/week/\d{4}-W\d{1,2}$")
MONTH_PATH_RE = re.compile(r"^/papers/month/\d{4}-\d{2}$")


def read_wrapper(lines: Sequence[Numbered]) -> tuple[Capture, int]:
    """The capture facts of a page's head, and the index in ``lines`` where the page starts."""
    facts: dict[str, tuple[str, int]] = {}
    start = _front_matter(lines, facts)
    page_start = next((i for i in range(start, len(lines)) if is_banner(lines[i][1])), None)
    if page_start is None:
        page_start = start
    for line_no, line in lines[start:page_start]:
        match = FACT_LINE_RE.match(line)
        if match:
            facts.setdefault(_key(match["key"]), (match["value"], line_no))
    return _capture(facts), page_start


def _front_matter(lines: Sequence[Numbered], facts: dict[str, tuple[str, int]]) -> int:
    """Read YAML front matter at the top into ``facts``; the index after it (0 when there is none)."""
    first = next((i for i, (_, line) in enumerate(lines) if line.strip()), None)
    if first is None or lines[first][1].strip() != FRONT_MATTER_FENCE:
        return 0
    for end in range(first + 1, min(len(lines), first + FRONT_MATTER_MAX_LINES)):
        if lines[end][1].strip() in FRONT_MATTER_END:
            break
    else:
        return 0  # no closing fence: not front matter
    block = "\n".join(line for _, line in lines[first + 1 : end])
    import yaml  # here: a run that meets no front matter (a re-run of loaded files) never pays for it

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and value is not None and not isinstance(value, dict | list):
                line_no = next((n for n, line in lines[first + 1 : end] if line.lstrip().startswith(key)), None)
                facts.setdefault(_key(key), (str(value), line_no or lines[first][0]))
    return end + 1


def _key(name: str) -> str:
    return " ".join(name.strip().strip("*").split()).casefold()


def _capture(facts: dict[str, tuple[str, int]]) -> Capture:
    problems: list[Problem] = []
    url = next((_url(facts[key][0]) for key in URL_KEYS if key in facts and _url(facts[key][0])), None)
    captured_at = None
    for key in CAPTURED_KEYS:
        if key in facts:
            value, line_no = facts[key]
            captured_at = _timestamp(value)
            if captured_at is None:
                reason = f"capture time {value.strip()!r} is not a date; ignored (the file's time is used instead)"
                problems.append(Problem(LEVEL_FIELD, reason, line_no, excerpt(value)))
            break
    kind, listed_on = page_kind(url)
    return Capture(url, kind, captured_at, listed_on, tuple(problems))


def _url(value: str) -> str | None:
    """An http(s) URL written plainly, in backticks or angle brackets, or as a Markdown link."""
    text = value.strip().strip("`<>\"'")
    if text.startswith("[") and "](" in text:
        text = text[text.index("](") + 2 :].rstrip(")")
    return text if re.match(r"^https?://\S+$", text) else None


def _timestamp(value: str) -> dt.datetime | None:
    """A capture time as an aware datetime (UTC when the capture gives no zone)."""
    from dateutil import parser as dateparser  # here, like yaml: most runs meet no capture time

    try:
        parsed = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        try:
            parsed = dateparser.parse(value.strip())
        except (ValueError, OverflowError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def page_kind(url: str | None) -> tuple[str, dt.date | None]:
    """The kind of papers page a URL shows and, for a dated daily page, its date."""
    if not url:
        return PAGE_UNKNOWN, None
    parts = urlsplit(url)
    host = (parts.hostname or "").casefold()
    if not any(host == name or host.endswith("." + name) for name in HF_HOSTS):
        return PAGE_UNKNOWN, None
    path = parts.path.rstrip("/") or "/"
    query = parse_qs(parts.query)
    if path == "/papers" and "q" in query:
        return PAGE_SEARCH, None
    if path == "/papers":
        return PAGE_DAILY, _date(query.get("date", [""])[0])
    if match := DATE_PATH_RE.match(path):
        return PAGE_DAILY, _date(match["date"])
    if WEEK_PATH_RE.match(path):
        return PAGE_WEEKLY, None
    if MONTH_PATH_RE.match(path):
        return PAGE_MONTHLY, None
    if path == "/papers/trending":
        return PAGE_TRENDING, None
    return PAGE_UNKNOWN, None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
