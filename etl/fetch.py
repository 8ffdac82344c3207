"""Fetch the Hub's daily papers listings and save each day's raw answer (``papers-etl fetch``).

Everything HTTP goes through huggingface_hub, the field's own client: its endpoint
(``HF_ENDPOINT``, read when a run starts, not when huggingface_hub was imported),
its token (``HF_TOKEN`` or the token stored by ``hf auth login``, through
``build_hf_headers``), its shared HTTP session, its retry loop (``http_backoff``:
exponential backoff, ``Retry-After`` and the Hub's rate-limit headers honoured)
and its errors (``hf_raise_for_status``). The request is the one
``HfApi.list_daily_papers(date=D, limit=PAGE_SIZE)`` sends:
``GET {endpoint}/api/daily_papers?limit=100&date=YYYY-MM-DD``.

Each day is its own request and its own file, ``DEST/daily_papers/YYYY-MM-DD.json``:
the answer's bytes exactly as received, once they are known to be a daily papers
list, written to a dot-named temporary file in the same folder and renamed over
the target, so a reader (or ``papers-etl load``) never sees half a file. A week or
a month is fetched day by day. A day whose listing fills a whole page
(``PAGE_SIZE`` papers) continues with the API's next pages (``p=1``, ``p=2``…),
each saved as received beside the first as ``YYYY-MM-DD.pN.json``.

A day already saved is skipped, except the last ``REFRESH_DAYS`` days (a listing
still changes then) or with ``refresh``. A day that fails (an HTTP error after the
retries, a timeout, an answer that is not a daily papers list) leaves its earlier
file as it was and the run goes on with the next day; a refused token (401, 403),
an endpoint that cannot be reached or a folder that cannot be written stops the run.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from .errors import DateRangeError, FetchError
from .records import excerpt

if TYPE_CHECKING:
    from huggingface_hub.errors import HfHubHTTPError

# huggingface_hub and its HTTP client are imported where a request is made, not here: every
# papers-etl command imports this module, and they would add a sixth of a second to each start.

log = logging.getLogger(__name__)

API_PATH = "/api/daily_papers"
FOLDER = "daily_papers"
PAGE_SIZE = 100  # papers per request (the API's own default is 50)
MAX_PAGES = 20  # pages followed for one day, a guard against a server that never ends a listing
REFRESH_DAYS = 2  # today and yesterday (UTC) are fetched again on every run
RETRY_STATUSES = (408, 429, *range(500, 600))
FETCHED, SKIPPED, FAILED = "fetched", "skipped", "failed"
DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class _DayFailed(Exception):
    """One day could not be fetched; the run goes on with the next."""


@dataclass(frozen=True)
class FetchOptions:
    refresh: bool = False  # fetch days already saved again
    timeout: float = 30.0  # seconds to wait for each answer
    retries: int = 5  # retries of one request (429, 5xx, timeouts, dropped connections)
    backoff: float = 1.0  # first wait between retries, in seconds; doubled after each retry
    max_backoff: float = 60.0  # cap of that wait (a Retry-After or rate-limit reset is waited in full)
    endpoint: str | None = None  # default: HF_ENDPOINT, else huggingface_hub's endpoint


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    status: str  # fetched | skipped | failed
    paths: tuple[str, ...] = ()  # the day's files (skipped: the file already there)
    papers: int | None = None  # entries in the answer (fetched days)
    reason: str | None = None  # why it failed, one line, safe to print

    def as_dict(self) -> dict:
        return {**asdict(self), "day": self.day.isoformat(), "paths": list(self.paths)}


@dataclass
class FetchSummary:
    folder: Path
    endpoint: str
    days: list[DayResult] = field(default_factory=list)
    message: str | None = None  # why the run stopped early, if it did

    def _with(self, status: str) -> list[DayResult]:
        return [d for d in self.days if d.status == status]

    @property
    def fetched(self) -> list[DayResult]:
        return self._with(FETCHED)

    @property
    def skipped(self) -> list[DayResult]:
        return self._with(SKIPPED)

    @property
    def failed(self) -> list[DayResult]:
        return self._with(FAILED)

    @property
    def status(self) -> str:
        """failed: the run stopped; partial: some days failed; succeeded: every day fetched or skipped."""
        return "failed" if self.message else "partial" if self.failed else "succeeded"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "folder": str(self.folder),
            "endpoint": self.endpoint,
            "fetched": len(self.fetched),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "papers": sum(d.papers or 0 for d in self.fetched),
            "message": self.message,
            "days": [d.as_dict() for d in self.days],
        }


class Progress:
    """What a fetch reports while it works. The default does nothing; the CLI draws a progress bar."""

    def start(self, days: list[dt.date]) -> None:
        """The days to consider, before the first request."""

    def day_started(self, day: dt.date) -> None:
        """A day is about to be fetched (or skipped)."""

    def day_done(self, result: DayResult) -> None:
        """A day was fetched, skipped or failed."""


# --------------------------------------------------------------------------- which days


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def parse_day(text: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DateRangeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2025-03-12") from None


def week_days(text: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week ``YYYY-Www``."""
    match = WEEK.match(text)
    try:
        if not match:
            raise ValueError
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise DateRangeError(f"{text!r} is not an ISO week; write YYYY-Www, e.g. 2025-W11") from None
    return monday, monday + dt.timedelta(days=6)


def month_days(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of a month ``YYYY-MM``."""
    match = MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise DateRangeError(f"{text!r} is not a month; write YYYY-MM, e.g. 2025-03")
    year, month = int(match[1]), int(match[2])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def days_to_fetch(
    dest: Path,
    *,
    date: str | None = None,
    start: str | None = None,
    end: str | None = None,
    week: str | None = None,
    month: str | None = None,
    today: dt.date | None = None,
) -> list[dt.date]:
    """The days a run covers, oldest first, never after today (UTC).

    Without a choice: from the latest day already saved in ``dest`` (so a missed run
    is caught up) or yesterday, whichever is earlier, to today.
    """
    today = today or utc_today()
    chosen = [name for name, value in (("--date", date), ("--from", start), ("--week", week), ("--month", month))
              if value is not None]  # fmt: skip
    if len(chosen) > 1:
        raise DateRangeError(f"choose one of {', '.join(chosen)}")
    if end is not None and start is None:
        raise DateRangeError("--to needs --from")
    if date is not None:
        first = last = parse_day(date)
    elif start is not None:
        first, last = parse_day(start), parse_day(end) if end is not None else today
    elif week is not None:
        first, last = week_days(week)
    elif month is not None:
        first, last = month_days(month)
    else:
        latest = latest_saved_day(dest)
        first, last = min(today - dt.timedelta(days=1), latest or today), today
    if first > last:
        raise DateRangeError(f"the range ends ({last}) before it starts ({first})")
    if first > today:
        raise DateRangeError(f"{first} is after today ({today}, UTC): there is no listing yet")
    last = min(last, today)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def latest_saved_day(dest: Path) -> dt.date | None:
    folder = Path(dest) / FOLDER
    days = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = DAY_FILE.match(path.name)
            if match:
                try:
                    days.append(dt.date.fromisoformat(match[1]))
                except ValueError:
                    continue
    return max(days, default=None)


def day_path(folder: Path, day: dt.date, page: int = 0) -> Path:
    return folder / (f"{day.isoformat()}.json" if page == 0 else f"{day.isoformat()}.p{page}.json")


# --------------------------------------------------------------------------- the run


def fetch(
    dest: str | Path,
    days: list[dt.date],
    options: FetchOptions = FetchOptions(),  # frozen, so sharing the default is safe
    progress: Progress | None = None,
    *,
    today: dt.date | None = None,
) -> FetchSummary:
    """Fetch ``days`` into ``dest/daily_papers``; the summary says what happened to each day.

    A run that has to stop (see FetchError) returns its summary with ``message`` set.
    """
    progress = progress or Progress()
    today = today or utc_today()
    folder = Path(dest) / FOLDER
    endpoint = resolve_endpoint(options.endpoint)
    summary = FetchSummary(folder, shown_url(endpoint))
    progress.start(days)
    try:
        _make_folder(folder)
        headers = _headers()
        for day in days:
            progress.day_started(day)
            result = _fetch_or_skip(folder, day, endpoint, headers, options, today)
            summary.days.append(result)
            progress.day_done(result)
    except FetchError as exc:
        summary.message = str(exc)
    return summary


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The endpoint as huggingface_hub would use it, with HF_ENDPOINT read now (huggingface_hub reads it
    into ``constants.ENDPOINT`` once, at import)."""
    from huggingface_hub import constants

    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def shown_url(url: str) -> str:
    """A URL without any user:password part, safe to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create {folder} ({exc.strerror}); check the path and its permissions") from None


def _headers() -> dict[str, str]:
    """huggingface_hub's headers: the user agent, and the token (HF_TOKEN or the stored one) when there is one."""
    from huggingface_hub.utils import build_hf_headers

    try:
        return build_hf_headers(library_name="papers-etl", library_version=version("papers-etl"))
    except Exception as exc:  # never show the exception's text: it may quote a token
        raise FetchError(
            f"huggingface_hub could not read the Hugging Face token ({type(exc).__name__}); "
            "check HF_TOKEN or run `hf auth login` again"
        ) from None


def _needs_fetch(path: Path, day: dt.date, today: dt.date, refresh: bool) -> bool:
    return refresh or day > today - dt.timedelta(days=REFRESH_DAYS) or not path.exists()


def _fetch_or_skip(
    folder: Path, day: dt.date, endpoint: str, headers: dict, options: FetchOptions, today: dt.date
) -> DayResult:
    target = day_path(folder, day)
    if not _needs_fetch(target, day, today, options.refresh):
        return DayResult(day, SKIPPED, paths=tuple(str(p) for p in _saved_pages(folder, day)))
    try:
        pages, papers = _fetch_pages(day, endpoint, headers, options)
    except _DayFailed as exc:
        log.info("%s failed: %s", day, exc)  # the CLI names failed days on stderr
        return DayResult(day, FAILED, reason=str(exc))
    paths = _write_pages(folder, day, pages)
    log.info("%s: %d papers in %s", day, papers, ", ".join(p.name for p in paths))
    return DayResult(day, FETCHED, paths=tuple(str(p) for p in paths), papers=papers)


def _saved_pages(folder: Path, day: dt.date) -> list[Path]:
    extra = sorted(folder.glob(f"{day.isoformat()}.p*.json"), key=lambda p: _page_number(p) or 0)
    return [day_path(folder, day), *[p for p in extra if _page_number(p)]]


def _page_number(path: Path) -> int | None:
    match = re.fullmatch(r"\d{4}-\d{2}-\d{2}\.p([1-9]\d*)\.json", path.name)
    return int(match[1]) if match else None


# --------------------------------------------------------------------------- one day over HTTP


def _fetch_pages(day: dt.date, endpoint: str, headers: dict, options: FetchOptions) -> tuple[list[bytes], int]:
    """The raw answers of one day (one per page) and the number of papers in them."""
    pages: list[bytes] = []
    papers = 0
    for page in range(MAX_PAGES):
        # The parameters of HfApi.list_daily_papers(date=..., limit=..., p=...), in its order.
        params = {**({"p": page} if page else {}), "limit": PAGE_SIZE, "date": day.isoformat()}
        body = _get(f"{endpoint}{API_PATH}", params, headers, options)
        count = daily_entries(body)
        if page and (count == 0 or body == pages[-1]):
            break  # past the last page (or a server that ignores p): nothing more to save
        pages.append(body)
        papers += count
        if count < PAGE_SIZE:
            break
    else:
        raise _DayFailed(f"the listing goes on past {MAX_PAGES} pages of {PAGE_SIZE}; nothing was saved")
    return pages, papers


def _get(url: str, params: dict, headers: dict, options: FetchOptions) -> bytes:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import hf_raise_for_status, http_backoff

    shown = f"{shown_url(url)}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    try:
        response = http_backoff(
            "GET",
            url,
            params=params,
            headers=headers,
            timeout=options.timeout,
            max_retries=options.retries,
            base_wait_time=options.backoff,
            max_wait_time=options.max_backoff,
            retry_on_status_codes=RETRY_STATUSES,
        )
        hf_raise_for_status(response)
    except HfHubHTTPError as exc:
        status = exc.response.status_code
        if status in (401, 403):
            refused = "refused the token" if "authorization" in headers else "needs a token"
            raise FetchError(
                f"HTTP {status} from {shown}: the Hub {refused}; check HF_TOKEN (or `hf auth login`)"
            ) from None
        retried = f" after {options.retries} retries" if status in RETRY_STATUSES and options.retries else ""
        raise _DayFailed(f"HTTP {status}{retried} from {shown}{_server_says(exc)}") from None
    except OfflineModeIsEnabled:
        raise FetchError("HF_HUB_OFFLINE is set: huggingface_hub makes no requests; unset it to fetch") from None
    except httpx2.TimeoutException:
        raise _DayFailed(
            f"no answer within {options.timeout:g} s from {shown} ({options.retries} retries); "
            "try again later or raise --timeout"
        ) from None
    except (httpx2.ConnectError, httpx2.ProxyError, httpx2.UnsupportedProtocol) as exc:
        raise FetchError(
            f"cannot reach {shown_url(url)} ({type(exc).__name__}); check the network and HF_ENDPOINT"
        ) from None
    except httpx2.TransportError as exc:
        raise _DayFailed(
            f"the connection to {shown} failed ({type(exc).__name__}) after {options.retries} retries"
        ) from None
    return response.content


def _server_says(exc: HfHubHTTPError) -> str:
    """The server's own error message, flattened, stripped of control characters and shortened (it is untrusted)."""
    message = printable(exc.server_message or "")
    return f": {excerpt(message)}" if message.strip() else ""


def printable(text: str) -> str:
    """``text`` with every non-printable character (escape sequences, bidi controls) shown as an escape."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)


def daily_entries(body: bytes) -> int:
    """The number of entries in a daily papers answer; _DayFailed if ``body`` is not one
    (a JSON list of objects, each with a ``paper`` object, as huggingface_hub's PaperInfo reads it)."""
    try:
        entries = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise _DayFailed(f"the answer is not JSON ({type(exc).__name__} at {_where(exc)}); nothing was saved") from None
    if not isinstance(entries, list):
        raise _DayFailed(f"the answer is a JSON {type(entries).__name__}, not a list of papers; nothing was saved")
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
            raise _DayFailed(f"entry {n} of the answer has no paper object; nothing was saved")
    return len(entries)


def _where(exc: Exception) -> str:
    return f"character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else "the start"


# --------------------------------------------------------------------------- writing


def _write_pages(folder: Path, day: dt.date, pages: list[bytes]) -> list[Path]:
    """Each page to a dot-named temporary file, flushed to disk, then renamed over its target;
    pages left from an earlier, longer listing of the day are removed."""
    targets = [day_path(folder, day, n) for n in range(len(pages))]
    partials = [t.with_name(f".{t.name}.partial-{os.getpid()}") for t in targets]
    try:
        for partial, body in zip(partials, pages, strict=True):
            with partial.open("wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
        for partial, target in zip(partials, targets, strict=True):
            partial.replace(target)
        for stale in _saved_pages(folder, day)[len(pages) :]:
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot write {targets[0]} ({exc.strerror}); check the disk and permissions") from None
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    return targets
