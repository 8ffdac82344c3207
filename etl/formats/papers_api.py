"""JSON from the Hugging Face papers API: a pure, streaming parser (bytes in, entries out).

The field names are those huggingface_hub's own model reads (``PaperInfo`` and
``PaperAuthor`` in ``huggingface_hub/hf_api.py``, version 2.4), with the same
precedence between an entry's ``paper`` object and the entry itself:

- ``/api/daily_papers`` (``HfApi.list_daily_papers``) and ``/api/papers/search``
  (``HfApi.list_papers``): a list of entries, each a ``paper`` object (``id``,
  ``title``, ``summary``, ``authors``, ``publishedAt``, ``submittedOnDailyAt``,
  ``upvotes``, ``githubRepo``, ``githubStars``, ``projectPage``, ``organization``…)
  beside the listing's own fields (``title``, ``summary``, ``publishedAt``: when it
  was listed, ``numComments``, ``submittedBy``, ``organization``, ``thumbnail``…);
- ``/api/papers/{id}`` (``HfApi.paper_info``): one paper object, its fields at the top
  (``publishedAt`` there is the paper's date; ``submittedOnDailyAt`` its listing).

Shapes accepted in one file, read as one stream of JSON values (``ijson``,
``multiple_values``), so a file is never held whole:

1. an array of entries: one daily or search answer (as ``papers-etl fetch`` saves it);
2. several such arrays one after the other (``cat daily_papers/*.json > year.json``),
   and entries one per line (JSON Lines, ``jq -c '.[]'``): every top-level value is read;
3. an object: one paper (``/api/papers/{id}``) or one daily-shaped entry;
4. an object holding a page's cards, as a papers page carries them (``{"dailyPapers":
   […]}`` or ``{"searchResults": […]}``, with ``dateString``, ``periodType``, ``query``…,
   see ``etl.saved_html``): the first such list is read; its other keys are ``props``.

Memory stays flat: entries are built one at a time, and one entry (or anything
between two entries) larger than ``MAX_ENTRY_BYTES`` is refused before it is
built. ijson reports no positions, so ``ApiEntry.line_no`` is None and errors
name the entry and the byte range where the parser stopped.

Unknown fields are ignored; a missing field is None. An entry without its title
or abstract is a ``record`` problem (skipped); an unreadable field is a ``field``
problem (None). A file that is not JSON, is cut short, or is not in one of the
shapes above raises ``JsonInputError``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import ijson
from ijson.common import IncompleteJSONError, ObjectBuilder

from ..errors import EncodingError, JsonInputError
from ..records import LEVEL_FIELD, LEVEL_RECORD, CardFacts, Problem, RawRecord, excerpt
from .base import CaptureFormat
from .markdown_cards import ARXIV_ID_RE, unversioned

READ_BYTES = 64 * 1024  # what the JSON parser reads at a time: also the precision of error offsets
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # real entries are a few KB (a 3,000-author paper ~0.6 MB)
PAGE_KEYS = ("dailyPapers", "searchResults")  # lists of cards in a page's data-props
DETECT_BYTES = 8 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
NOT_UTF8_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 (and UTF-32) files


@dataclass(frozen=True)
class ApiEntry:
    """One paper as the API (or a page's data-props) gives it; values as sent, dates as dates."""

    position: int  # 1-based order of the entry in the file (across concatenated answers)
    line_no: int | None  # ijson gives no positions: always None for now
    arxiv_id: str | None  # paper ``id``, without a version suffix: "2503.00001"
    title: str | None
    abstract: str | None  # ``summary``
    authors: tuple[tuple[str, str | None], ...] | None  # (name, Hub user name), in order; None: not sent
    published_at: dt.date | None  # the paper's ``publishedAt`` (UTC date)
    listed_at: dt.date | None  # ``submittedOnDailyAt`` (UTC date): the day of its daily listing
    upvotes: int | None
    comments: int | None  # ``numComments``
    github_url: str | None  # ``githubRepo``
    github_stars: int | None
    project_page: str | None
    organization: str | None  # the organisation's display name (``fullname``, else ``name``), as pages print it
    organization_name: str | None  # its Hub handle (``name``)
    submitted_by: str | None  # the submitter's Hub user name (``submittedBy.user``)
    submitted_by_fullname: str | None  # and display name, as trending cards print it

    @property
    def author_count(self) -> int | None:
        return len(self.authors) if self.authors is not None else None


# --------------------------------------------------------------------------- byte stream


class _Reader:
    """The chunks as a file for ijson: counts the bytes handed over and refuses a value
    (an entry, or whatever lies between two entries) larger than MAX_ENTRY_BYTES."""

    def __init__(self, chunks: Iterable[bytes], max_value_bytes: int):
        self._chunks = iter(chunks)
        self._pending = b""
        self._at = 0  # what of _pending was handed over
        self.offset = 0  # bytes handed to the parser so far
        self.last_read = 0  # offset before the last read: the parser stopped in [last_read, offset)
        self.mark = 0  # offset when the current value started
        self.max_value_bytes = max_value_bytes
        self.position = 0  # entries started so far, for messages
        self.completed = 0  # entries read whole
        self._first = True
        self.first_byte = b""  # the first byte after a BOM and white space

    def read(self, size: int = -1) -> bytes:
        size = READ_BYTES if size is None or size < 0 else min(size, READ_BYTES)
        if self._first:
            self._pending, self._at = self._check_start(), 0
        while self._at >= len(self._pending):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending, self._at = bytes(chunk), 0
        data = self._pending[self._at : self._at + size]  # an index, not a slice of the rest: no copying
        self._at += len(data)
        if not self.first_byte:
            self.first_byte = data.lstrip()[:1]
        self.last_read, self.offset = self.offset, self.offset + len(data)
        if self.offset - self.mark > self.max_value_bytes:
            raise JsonInputError(
                f"one JSON value larger than {self.max_value_bytes / (1024 * 1024):g} MB (at byte {self.offset:,}, "
                f"after {self.completed} complete entries): no papers API entry is that large"
            )
        return data

    def _check_start(self) -> bytes:
        """The first bytes without a UTF-8 BOM (gathered across chunks); a UTF-16 BOM is refused."""
        self._first = False
        start = b""
        while len(start) < len(UTF8_BOM):
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            start += chunk
        if start.startswith(UTF8_BOM):
            self.offset = len(UTF8_BOM)
            return start[len(UTF8_BOM) :]
        if start.startswith(NOT_UTF8_BOMS):
            raise EncodingError("not UTF-8 (the file starts with a UTF-16 byte order mark); save the JSON as UTF-8")
        return start


# --------------------------------------------------------------------------- the stream


class ApiStream:
    """Entries of an API file, streamed. ``entries()`` yields them in order; ``problems``
    holds the record and field problems met so far; ``props`` the other top-level keys of
    a page's data-props object (``dateString``, ``periodType``, ``query``…) once read.

    ``page_props_only``: the JSON must be a page's data-props object (``etl.saved_html``);
    ``again``: what the messages of a file that is not valid JSON tell to do.
    """

    def __init__(self, chunks: Iterable[bytes], *, page_props_only: bool = False,
                 max_entry_bytes: int = MAX_ENTRY_BYTES, again: str = "save the API's answer again"):  # fmt: skip
        self._reader = _Reader(chunks, max_entry_bytes)
        self._page_props_only = page_props_only
        self._again = again  # what to do about a file that is not valid JSON
        self.problems: list[Problem] = []
        self.props: dict = {}
        self.page_key: str | None = None  # "dailyPapers" or "searchResults" when the file is a page's props
        self.count = 0  # entries yielded
        self._values = 0  # top-level JSON values seen
        self._started = False

    def entries(self) -> Iterator[ApiEntry]:
        if self._started:
            raise RuntimeError("an ApiStream is read once: its chunks are consumed")
        self._started = True
        reader = self._reader
        events = ijson.parse(reader, buf_size=READ_BYTES, multiple_values=True, use_float=True)
        try:
            yield from self._read(events)
        except IncompleteJSONError as exc:
            if not self._values and "premature EOF" in str(exc):
                raise JsonInputError("the file is empty: no JSON value in it") from None
            raise JsonInputError(self._syntax_reason(exc)) from None
        if self.count == 0 and reader.position and len(self._record_problems()) == reader.position:
            first = self._record_problems()[0].reason
            raise JsonInputError(f"no entry reads as a paper ({reader.position} entries; the first: {first})")

    def _record_problems(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == LEVEL_RECORD]

    def _read(self, events: Iterator[tuple[str, str, object]]) -> Iterator[ApiEntry]:
        reader = self._reader
        for _prefix, event, _value in events:  # top-level values only: nested ones are consumed below
            self._values += 1
            if event == "start_array" and not self._page_props_only:
                yield from self._array(events, "item")
            elif event == "start_map":
                yield from self._object(events)
            else:
                shape = "a list" if event == "start_array" else f"a JSON {event}"
                expected = "a page's data-props object" if self._page_props_only else "a list of entries or an object"
                raise JsonInputError(f"{shape} at the top level near byte {reader.offset:,}: expected {expected}")
            reader.mark = reader.offset

    def _array(self, events, prefix: str) -> Iterator[ApiEntry]:
        """Entries of the array whose items have ``prefix`` (its start_array already read)."""
        reader = self._reader
        reader.mark = reader.offset
        for item_prefix, event, value in events:
            if event == "end_array" and item_prefix == prefix.rpartition(".")[0]:
                return
            reader.position += 1
            raw = self._build(events, event, value)
            reader.mark, reader.completed = reader.offset, reader.completed + 1
            entry = self._entry(raw, reader.position)
            if entry is not None:
                self.count += 1
                yield entry

    def _object(self, events) -> Iterator[ApiEntry]:
        """A top-level object: a page's data-props (its card list streamed), else one entry."""
        reader = self._reader
        builder = ObjectBuilder()
        builder.event("start_map", None)
        for prefix, event, value in events:
            if prefix == "" and event == "end_map":
                break
            if prefix == "" and event == "map_key" and value in PAGE_KEYS and self.page_key not in (None, value):
                skipped = self._skip(events)
                self.problems.append(Problem(
                    LEVEL_FIELD, f"the page's data also hold a {value} list ({skipped} entries), not read: "
                    f"the cards are those of its {self.page_key} list",
                ))  # fmt: skip
                continue
            if prefix == "" and event == "map_key" and value in PAGE_KEYS:
                key_events = self._peek_array(events)
                if key_events is None:  # the key holds a list: stream it
                    self.page_key = value
                    yield from self._array(events, f"{value}.item")
                    continue
                builder.event("map_key", value)
                self._feed(builder, key_events, events)
                continue
            builder.event(event, value)
        builder.event("end_map", None)
        top = builder.value
        if self.page_key is not None:
            self.props.update(top)
            return
        if self._page_props_only:
            raise JsonInputError(
                f"the page's data-props hold no card list (no dailyPapers or searchResults); keys seen: {_keys(top)}"
            )
        reader.position += 1
        entry = self._entry(top, reader.position)
        if entry is not None:
            self.count += 1
            yield entry

    @staticmethod
    def _peek_array(events):
        """None if the next value is an array (its start consumed); else its first event."""
        prefix, event, value = next(events)
        return None if event == "start_array" else (prefix, event, value)

    def _skip(self, events) -> int:
        """Skip one value without building it; its item count if it is an array."""
        depth, items = 0, 0
        for _, event, _ in events:
            if depth == 1 and event not in ("end_array", "end_map"):
                items += 1
                self._reader.mark = self._reader.offset  # nothing is kept: the size limit is per item
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")
            if depth == 0:
                break
        return items

    @staticmethod
    def _feed(builder: ObjectBuilder, first: tuple, events) -> None:
        """Feed one whole value (starting with ``first``) to ``builder``."""
        _, event, value = first
        builder.event(event, value)
        depth = 1 if event in ("start_map", "start_array") else 0
        while depth:
            _, event, value = next(events)
            builder.event(event, value)
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")

    @staticmethod
    def _build(events, event: str, value: object) -> object:
        if event not in ("start_map", "start_array"):
            return value
        builder = ObjectBuilder()
        ApiStream._feed(builder, ("", event, value), events)
        return builder.value

    # ------------------------------------------------------------------ one entry

    def _entry(self, raw: object, position: int) -> ApiEntry | None:
        if not isinstance(raw, dict):
            raise JsonInputError(
                f"entry {position} is a JSON {_json_type(raw)}, not an object: not a papers API answer"
            )
        paper = raw.get("paper")
        if paper is not None and not isinstance(paper, dict):
            raise JsonInputError(f"entry {position}: its 'paper' is a JSON {_json_type(paper)}, not an object")
        if paper is None and not any(key in raw for key in ("id", "title", "summary")):
            keys = _keys(raw)
            raise JsonInputError(
                f"entry {position} has no 'paper', 'id' or 'title' (keys: {keys}): not a papers API answer"
            )
        return _Entry(raw, paper or {}, position, self.problems).build()

    def _syntax_reason(self, exc: IncompleteJSONError) -> str:
        first = exc.args[0] if exc.args else ""
        if isinstance(first, bytes):
            first = first.decode("utf-8", "replace")
        message = str(first).split("\n", 1)[0].strip().rstrip(".") or "not valid JSON"
        reader = self._reader
        entry = f" in entry {reader.position}" if reader.position else ""
        if "premature EOF" in message:
            return (
                f"the JSON is cut short: it ends{entry} at byte {reader.offset:,}; "
                f"{self._again} (a download stopped early?)"
            )
        if "invalid bytes in UTF8" in message:
            message = "bytes that are not UTF-8 inside a string"
        hint = " (an HTML page? HTML is read by the saved-HTML format)" if reader.first_byte == b"<" else ""
        return (
            f"not valid JSON: {message}{hint}, between bytes {reader.last_read:,} and {reader.offset:,}{entry}; "
            f"{self._again}"
        )


class _Entry:
    """Reads one entry dict the way huggingface_hub's PaperInfo does, noting problems."""

    def __init__(self, raw: dict, paper: dict, position: int, problems: list[Problem]):
        self.raw, self.paper, self.position, self.problems = raw, paper, position, problems
        self.has_paper = bool(paper)

    def build(self) -> ApiEntry | None:
        raw, paper = self.raw, self.paper
        title = self._text("title", raw.get("title"), paper.get("title"))
        abstract = self._text("summary", paper.get("summary"), raw.get("summary"))
        arxiv_id = self._arxiv_id(raw.get("id") or paper.get("id"))
        if title is None or abstract is None:
            missing = "title" if title is None else "abstract (summary)"
            ident = f" ({arxiv_id})" if arxiv_id else ""
            reason = f"entry {self.position}{ident} has no {missing}: not a paper"
            self._problem(LEVEL_RECORD, reason, title or abstract)
            return None
        organization = self._first("organization", raw, paper)
        submitter = self._first("submittedBy", raw, paper) or self._first("submittedOnDailyBy", raw, paper)
        org = self._object("organization", organization)
        user = self._object("submittedBy", submitter)
        # A daily entry's own publishedAt is when it was listed; a paper object's is the paper's date.
        published = paper.get("publishedAt") if self.has_paper else raw.get("publishedAt")
        # Only submittedOnDailyAt says when it was listed (a search entry's own publishedAt may not).
        listed = self._first("submittedOnDailyAt", raw, paper)
        return ApiEntry(
            position=self.position,
            line_no=None,
            arxiv_id=arxiv_id,
            title=title,
            abstract=abstract,
            authors=self._authors(self._first("authors", paper, raw)),
            published_at=self._date("publishedAt", published),
            listed_at=self._date("submittedOnDailyAt", listed),
            upvotes=self._count("upvotes", self._first("upvotes", paper, raw)),
            comments=self._count("numComments", self._first("numComments", raw, paper)),
            github_url=self._text("githubRepo", self._first("githubRepo", raw, paper)),
            github_stars=self._count("githubStars", self._first("githubStars", raw, paper)),
            project_page=self._text("projectPage", self._first("projectPage", raw, paper)),
            organization=self._text("organization", org.get("fullname")) or self._text("organization", org.get("name")),
            organization_name=self._text("organization", org.get("name")),
            submitted_by=self._text("submittedBy", user.get("user")),
            submitted_by_fullname=self._text("submittedBy", user.get("fullname")),
        )

    @staticmethod
    def _first(key: str, *sources: dict) -> object:
        """The first value that is not None (huggingface_hub uses ``or``, which drops a 0)."""
        for source in sources:
            if source.get(key) is not None:
                return source[key]
        return None

    def _problem(self, level: str, reason: str, text: object = None) -> None:
        self.problems.append(Problem(level, reason, None, excerpt(text if isinstance(text, str) else None)))

    def _field(self, name: str, value: object, expected: str) -> None:
        shown = excerpt(json.dumps(value, ensure_ascii=False, default=str))
        self._problem(LEVEL_FIELD, f"entry {self.position}: {name} {shown} is not {expected}", shown)

    def _text(self, name: str, *values: object) -> str | None:
        for value in values:
            if value is None:
                continue
            if not isinstance(value, str):
                self._field(name, value, "a string")
                continue
            if value.strip():
                return value
        return None

    def _object(self, name: str, value: object) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._field(name, value, "an object")
            return {}
        return value

    def _arxiv_id(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not ARXIV_ID_RE.match(value.strip()):
            self._field("id", value, "an arXiv id")
            return None
        return unversioned(value.strip())

    def _count(self, name: str, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self._field(name, value, "a count")
            return None
        return int(value)

    def _date(self, name: str, value: object) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                pass
            else:
                if moment.tzinfo is not None:
                    moment = moment.astimezone(dt.UTC)
                return moment.date()
        self._field(name, value, "an ISO date")
        return None

    def _authors(self, value: object) -> tuple[tuple[str, str | None], ...] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self._field("authors", value, "a list")
            return None
        authors = []
        for author in value:
            name = author.get("name") if isinstance(author, dict) else None
            if not isinstance(name, str) or not name.strip():
                self._field("authors", author, "an author with a name")
                continue
            user = author.get("user")
            handle = user.get("user") if isinstance(user, dict) else None
            authors.append((name, handle if isinstance(handle, str) and handle else None))
        return tuple(authors)


def _keys(obj: dict, limit: int = 8) -> str:
    """Some of an object's keys for a message, quoted and escaped (they come from the file)."""
    return ", ".join(repr(excerpt(str(key))[:40]) for key in sorted(map(str, obj))[:limit]) or "none"


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def parse_api_json(chunks: Iterable[bytes], problems: list[Problem] | None = None) -> Iterator[ApiEntry]:
    """The entries of an API file, streamed; record and field problems go to ``problems``."""
    stream = ApiStream(chunks)
    try:
        yield from stream.entries()
    finally:
        if problems is not None:
            problems.extend(stream.problems)


# --------------------------------------------------------------------------- detection

# Keys that only the papers API (and a papers page's data-props) puts at the head of an entry.
ENTRY_KEYS = frozenset({"paper", "submittedOnDailyAt", "numComments", "submittedBy", "thumbnail",
                        "isAuthorParticipating", "mediaUrls"})  # fmt: skip
PAPER_KEYS = frozenset({"id", "authors", "publishedAt", "title", "summary", "upvotes", "discussionId",
                        "githubRepo", "githubStars", "projectPage", "ai_summary", "ai_keywords"})  # fmt: skip
DETECT_EVENTS = 400


def detect_api_json(head: str) -> float:
    """How sure (0..1) it is that ``head`` (the first few KB of a file) starts a papers
    API answer: read with the JSON parser as far as the head goes."""
    data = head[:DETECT_BYTES].lstrip("\ufeff \t\r\n").encode("utf-8", "replace")
    if data[:1] not in (b"[", b"{"):
        return 0.0
    keys: list[tuple[str, str]] = []
    top = None
    try:
        for n, (prefix, event, value) in enumerate(ijson.parse(io.BytesIO(data), multiple_values=True)):
            if n == 0:
                top = event
            if event == "map_key":
                keys.append((prefix, value))
            if n > DETECT_EVENTS:
                break
    except (IncompleteJSONError, UnicodeDecodeError):
        pass  # the head is cut: what was read before is what counts
    if top is None:
        return 0.0
    entry_keys = {key for prefix, key in keys if prefix in ("item", "")}
    paper_keys = {key for prefix, key in keys if prefix in ("item.paper", "", "item")}
    if top == "start_array" and not keys:
        return 0.3 if re.fullmatch(rb"\[\s*\]\s*", data) else 0.0  # an empty answer (a day without papers)
    if entry_keys & set(PAGE_KEYS) and top == "start_map":
        return 0.9
    score = 0.0
    if "paper" in entry_keys:
        score = 0.9
    elif len(paper_keys & PAPER_KEYS) >= 3 and "id" in paper_keys:
        score = 0.8  # a paper object (/api/papers/{id}) or a list of them
    if score and entry_keys & (ENTRY_KEYS - {"paper"}):
        score += 0.1
    return round(min(score, 1.0), 2)


# --------------------------------------------------------------------------- as a capture format

NAME = "papers_api"
JSON_OF_ANOTHER_SHAPE = 0.2


def record_from_entry(entry: ApiEntry) -> RawRecord:
    """A papers API entry (or a saved page's card) as a record: its text fields as sent, its date as an ISO
    date, its card values; its authors' names give the author count. ``line_no`` is the entry's number in
    the file: the JSON reader gives no positions."""
    card = CardFacts(
        arxiv_id=entry.arxiv_id,
        upvotes=entry.upvotes,
        comments=entry.comments,
        github_url=entry.github_url,
        github_stars=entry.github_stars,
        submitted_by=entry.submitted_by,
        organization=entry.organization,
        project_page=entry.project_page,
        author_names=entry.authors,
        listed_on=entry.listed_at,
    )
    published = entry.published_at.isoformat() if entry.published_at else None
    return RawRecord(
        entry.position, entry.position, entry.title or "", entry.abstract, raw_published=published, card=card
    )


def line_bytes(lines: Iterator[tuple[int, str]]) -> Iterator[bytes]:
    """The page's lines back as UTF-8 bytes for a parser that reads bytes, with no line end added after
    the last one (a JSON value cut short at the file's end stays cut short, not a string with a newline)."""
    previous = None
    for _, line in lines:
        if previous is not None:
            yield (previous + "\n").encode("utf-8")
        previous = line
    if previous is not None:
        yield previous.encode("utf-8")


def split(lines: Iterator[tuple[int, str]], problems: list[Problem]) -> Iterator[RawRecord]:
    stream = ApiStream(line_bytes(lines))
    try:
        for entry in stream.entries():
            yield record_from_entry(entry)
    finally:
        problems.extend(stream.problems)


def detect(head) -> float:
    text = head.text()
    sure = detect_api_json(text)
    if sure == 0 and text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return JSON_OF_ANOTHER_SHAPE  # JSON, but not the API's: refused by this format, with what it holds
    return sure


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "JSON as saved from the Hugging Face papers API (a daily papers or search answer, several one after the "
        "other, JSON Lines, or a single paper): one record per entry, with authors' names, upvotes, comments, "
        "GitHub repository and project page."
    ),
    detect=detect,
    split=split,
)
