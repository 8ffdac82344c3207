"""Extract: find capture files, read them, detect the layout, split into records.

``discover`` and ``read_capture`` touch the file system; ``parse_page`` is pure
(text in, ``Page`` out) so that every layout rule can be tested on a string.
"""

from __future__ import annotations

import glob
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import EncodingError, InputError, LayoutError, NoInputError
from .records import (
    LAYOUT_COMPACT,
    LAYOUT_DAILY,
    LAYOUT_DAILY_META,
    LEVEL_RECORD,
    Page,
    Problem,
    RawRecord,
    excerpt,
)

GLOB_CHARS = frozenset("*?[")
BOM = "\ufeff"

# Page chrome printed above the papers. Compared case-insensitively, stripped.
BANNER_LINES = frozenset({"new", "subscribe", "daily papers", "byak and the research community"})
BANNER_PREFIXES = ("get trending papers",)
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
AUTHORS_MARK = "•"
META_SEPARATOR = "·"


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class Capture:
    """A capture file's bytes and the facts about it that are recorded."""

    path: Path
    data: bytes
    sha256: str
    size_bytes: int
    mtime: float


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively) and globs into a sorted, de-duplicated file list.

    Each argument's own matches are sorted; arguments keep the order given.
    Raises NoInputError naming the first argument that matches nothing.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for arg in paths:
        matches = _expand(str(arg))
        if not matches:
            raise NoInputError(
                f"{arg}: no such file, folder or matching glob; check the path (quote globs so the shell keeps them)"
            )
        for path in matches:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found


def _expand(arg: str) -> list[Path]:
    is_glob = bool(GLOB_CHARS & set(arg))
    candidates = [Path(p) for p in sorted(glob.glob(arg, recursive=True))] if is_glob else [Path(arg)]
    files: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir():
            files.extend(sorted(p for p in candidate.rglob("*") if p.is_file() and not _is_hidden(p, candidate)))
        elif candidate.is_file():
            files.append(candidate)
    return files


def _is_hidden(path: Path, root: Path) -> bool:
    """Dot files and dot folders under a walked folder (.git, .DS_Store) are not captures."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_capture(path: Path) -> Capture:
    """Read a file whole. Raises InputError when it cannot be read."""
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise InputError("the file vanished before it could be read; run the load again", path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}); check its permissions", path) from None
    return Capture(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), mtime=mtime)


def decode_capture(data: bytes, path: str | Path | None = None) -> str:
    """Bytes to text: UTF-8 with or without BOM. Refuses empty, binary and non-UTF-8 input."""
    if not data.removeprefix(BOM.encode()).strip():
        raise InputError("the file is empty; capture the page again or remove the file", path)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary data (NUL byte at offset {nul}), not a text capture; remove it from the input", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise EncodingError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save the capture as UTF-8",
            path,
            line_no,
        ) from None
    return text.removeprefix(BOM)


# --------------------------------------------------------------------------- pages


def split_lines(text: str) -> list[str]:
    """Split on LF, dropping a CR before it (CRLF). Unlike str.splitlines, form feeds
    and Unicode separators inside an abstract do not start a new line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def is_banner(line: str) -> bool:
    folded = line.strip().casefold()
    return folded in BANNER_LINES or folded.startswith(BANNER_PREFIXES)


def parse_page(text: str) -> Page:
    """Detect the layout of a capture and split it into raw records.

    Raises LayoutError when the page is in no known layout or holds no paper.
    """
    numbered = list(enumerate(split_lines(text.removeprefix(BOM)), start=1))
    header = _read_header(numbered)
    if header.layout == LAYOUT_COMPACT:
        page = _split_compact(numbered[header.body_start :], header.first_title)
    else:
        page = _split_daily(numbered[header.body_start :], header.daily_papers_banner)
    page.header_date = header.date
    page.header_date_line_no = header.date_line_no
    if not page.records:
        raise LayoutError(f"a {page.layout} page with no paper on it; capture the page again")
    return page


@dataclass
class _Header:
    layout: str
    body_start: int  # index into the numbered lines where records start
    first_title: tuple[int, str] | None = None  # compact: the title glued to "Subscribe"
    date: str | None = None
    date_line_no: int | None = None
    daily_papers_banner: bool = False


def _read_header(numbered: list[tuple[int, str]]) -> _Header:
    saw_banner = saw_blank = daily_papers = False
    date: tuple[int, str] | None = None
    for index, (line_no, line) in enumerate(numbered):
        stripped = line.strip()
        if not stripped:
            saw_blank = saw_banner or saw_blank
            continue
        glued = stripped.startswith(SUBSCRIBE) and len(stripped) > len(SUBSCRIBE) and not is_banner(stripped)
        if glued and saw_banner and not saw_blank:
            title = stripped[len(SUBSCRIBE) :].strip()
            return _Header(LAYOUT_COMPACT, index + 1, first_title=(line_no, title))
        if is_banner(stripped):
            saw_banner = True
            daily_papers = daily_papers or stripped.casefold() == DAILY_PAPERS_BANNER
            continue
        if saw_banner and date is None and _looks_like_listing_date(stripped):
            date = (line_no, stripped)
            continue
        if not saw_banner:
            raise LayoutError(
                "unknown layout: no Hugging Face papers banner ('Get trending papers…', 'Subscribe') before the "
                "first paper; only compact, daily and daily_meta captures can be loaded",
                line_no=line_no,
            )
        layout = LAYOUT_DAILY if (saw_blank or date) else LAYOUT_COMPACT
        header = _Header(layout, index, daily_papers_banner=daily_papers)
        if date:
            header.date_line_no, header.date = date
        return header
    raise LayoutError("unknown layout: only banner lines, no paper; capture the page again")


def _looks_like_listing_date(line: str) -> bool:
    match = LISTING_DATE_RE.match(line)
    return bool(match) and match["month"].casefold() in MONTHS


def _truncated(line_no: int, title: str) -> Problem:
    return Problem(
        LEVEL_RECORD,
        "title without abstract: the record is cut short; capture the page again",
        line_no,
        excerpt(title),
    )


def _split_compact(body: list[tuple[int, str]], first_title: tuple[int, str] | None) -> Page:
    """Compact pages alternate title and abstract lines, with no blank lines."""
    lines = [(n, line) for n, line in body if line.strip()]
    if first_title is not None:
        lines.insert(0, first_title)
    page = Page(LAYOUT_COMPACT)
    for pair_start in range(0, len(lines), 2):
        line_no, title = lines[pair_start]
        if pair_start + 1 >= len(lines):
            page.problems.append(_truncated(line_no, title))
            break
        page.records.append(RawRecord(len(page.records) + 1, line_no, title, lines[pair_start + 1][1]))
    return page


def _split_daily(body: list[tuple[int, str]], daily_papers_banner: bool) -> Page:
    """Daily pages: blank-line separated title / abstract blocks, optionally each followed
    by metadata ("• N authors", "·", "Jun 7, 2023")."""
    page = Page(LAYOUT_DAILY_META if daily_papers_banner else LAYOUT_DAILY)
    lines = iter([(n, line) for n, line in body if line.strip()])
    pending: dict | None = None
    in_meta = False  # metadata closes a record: the next other line is a title, even with no abstract yet
    for line_no, line in lines:
        stripped = line.strip()
        if pending is not None and not in_meta and pending.get("raw_abstract") is None and not _is_meta(stripped):
            pending["raw_abstract"] = line
        elif pending is not None and _is_meta(stripped):
            page.layout = LAYOUT_DAILY_META
            in_meta = True
            _attach_meta(pending, line_no, line, lines)
        else:
            _flush(page, pending)
            pending = {"line_no": line_no, "raw_title": line, "raw_abstract": None}
            in_meta = False
    _flush(page, pending)
    return page


def _is_meta(stripped: str) -> bool:
    return stripped.startswith(AUTHORS_MARK) or stripped == META_SEPARATOR


def _attach_meta(pending: dict, line_no: int, line: str, lines: Iterator[tuple[int, str]]) -> None:
    if line.strip() == META_SEPARATOR:
        # The publication date is the line after the separator, whatever it says.
        date_line = next(lines, None)
        if date_line is not None:
            pending["published_line_no"], pending["raw_published"] = date_line
    else:
        pending["authors_line_no"], pending["raw_authors"] = line_no, line


def _flush(page: Page, pending: dict | None) -> None:
    if pending is None:
        return
    if pending["raw_abstract"] is None:
        page.problems.append(_truncated(pending["line_no"], pending["raw_title"]))
        return
    page.records.append(RawRecord(position=len(page.records) + 1, **pending))
