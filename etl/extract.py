"""Extract: find capture files and read them as numbered lines; ``etl.formats`` splits pages.

``discover`` and the capture readers touch the file system; ``parse_page`` is pure
(text in, ``Page`` out) so that every format's rules can be tested on a string.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import EncodingError, InputError, NoInputError
from .formats import PageStream
from .records import Page

GLOB_CHARS = frozenset("*?[")
BOM = "\ufeff"

# --------------------------------------------------------------------------- files

READ_CHUNK_BYTES = 1 << 20  # files are read (hashed, decoded) in chunks this size, never whole
UTF8_BOM = BOM.encode()


@dataclass(frozen=True)
class Fingerprint:
    """The facts about a capture file that are recorded, from one pass over its bytes."""

    path: Path
    sha256: str
    size_bytes: int
    mtime: float


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively) and globs into a sorted, de-duplicated file list.

    Each argument's own matches are sorted; arguments keep the order given.
    Raises NoInputError naming the first argument that matches nothing.
    """
    found: list[Path] = []
    seen: set[str] = set()
    for arg in paths:
        matches = _expand(str(arg))
        if not matches:
            raise NoInputError(
                f"{arg}: no such file, folder or matching glob; check the path (quote globs so the shell keeps them)"
            )
        for path, identity in matches:
            if identity not in seen:
                seen.add(identity)
                found.append(path)
    return found


def _expand(arg: str) -> list[tuple[Path, str]]:
    """The files an argument names, each with its real path (what makes two arguments' files one)."""
    is_glob = bool(GLOB_CHARS & set(arg))
    candidates = sorted(glob.glob(arg, recursive=True)) if is_glob else [arg]
    files: list[tuple[Path, str]] = []
    for candidate in candidates:
        if os.path.isdir(candidate):
            files.extend(_walk(candidate))
        elif os.path.isfile(candidate):
            files.append((Path(candidate), os.path.realpath(candidate)))
    return files


def _walk(folder: str) -> list[tuple[Path, str]]:
    """Files under a folder, sorted by path, skipping dot files and dot folders (.git, .DS_Store):
    they are not captures. Real paths are resolved once per folder, not per file."""
    files = []
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        real = os.path.realpath(directory)
        for name in names:
            path = os.path.join(directory, name)
            if not name.startswith(".") and os.path.isfile(path):
                files.append((Path(path), os.path.join(real, name)))
    files.sort(key=lambda item: item[0])
    return files


@contextmanager
def open_capture(path: Path) -> Iterator[Iterator[bytes]]:
    """The file's bytes as an iterator of chunks. Raises InputError when it cannot be opened or read."""
    with _readable(path):
        handle = path.open("rb")
    with handle:
        yield _chunks(handle, path)


def _chunks(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    while True:
        with _readable(path):
            chunk = handle.read(READ_CHUNK_BYTES)
        if not chunk:
            return
        yield chunk


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """OSError while opening or reading a capture -> InputError with what to do."""
    try:
        yield
    except FileNotFoundError:
        raise InputError("the file vanished before it could be read; run the load again", path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc}); check its permissions", path) from None


def fingerprint(path: Path) -> Fingerprint:
    """sha256, size and mtime from one chunked pass: decides "already loaded" before any parsing."""
    digest, size = hashlib.sha256(), 0
    with open_capture(path) as chunks:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
        with _readable(path):
            mtime = path.stat().st_mtime
    return Fingerprint(path=path, sha256=digest.hexdigest(), size_bytes=size, mtime=mtime)


def iter_lines(chunks: Iterable[bytes], path: str | Path | None = None) -> Iterator[tuple[int, str]]:
    """Numbered text lines from byte chunks, with flat memory whatever the file size.

    UTF-8 with or without BOM, LF or CRLF. Raises InputError for a binary file
    (a NUL byte; checked per chunk before any of it is decoded) and for a file
    with no text, EncodingError naming the byte offset and line of the first
    byte that is not UTF-8. There is no fallback encoding (see the README).
    Lines are split on the b"\\n" byte before decoding: it never occurs inside a
    UTF-8 multi-byte sequence, so each line decodes on its own and a bad byte's
    offset is exact.
    """
    line_no, line_start, offset = 0, 0, 0  # offset: bytes consumed before the current chunk
    pending: list[bytes] = []  # pieces of a line that spans chunks (a line may be megabytes long)
    has_text = False
    for chunk in chunks:
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise InputError(
                f"binary data (NUL byte at offset {offset + nul}), not a text capture; remove it from the input", path
            )
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pending.append(chunk[start:end])
            line_no += 1
            line = _decode_line(b"".join(pending), line_start, line_no, path)
            has_text = has_text or bool(line.strip())
            yield line_no, line
            pending, start, line_start = [], end + 1, offset + end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
        offset += len(chunk)
    if pending:
        line_no += 1
        line = _decode_line(b"".join(pending), line_start, line_no, path)
        has_text = has_text or bool(line.strip())
        yield line_no, line
    if not has_text:
        raise InputError("the file is empty; capture the page again or remove the file", path)


def _decode_line(raw: bytes, line_start: int, line_no: int, path: str | Path | None) -> str:
    """One line's bytes to text, without its CR and (on line 1) the BOM."""
    skip = len(UTF8_BOM) if line_start == 0 and raw.startswith(UTF8_BOM) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = skip + exc.start
        raise EncodingError(
            f"not UTF-8 (byte 0x{raw[bad]:02x} at offset {line_start + bad}); re-save the capture as UTF-8",
            path,
            line_no,
        ) from None
    return text[:-1] if text.endswith("\r") else text


def decode_capture(data: bytes, path: str | Path | None = None) -> str:
    """Bytes held in memory to text, with the rules of ``iter_lines`` (for small inputs and tests)."""
    for _ in iter_lines([data], path):
        pass
    return data.decode("utf-8").removeprefix(BOM)


# --------------------------------------------------------------------------- pages


def split_lines(text: str) -> list[str]:
    """Split on LF, dropping a CR before it (CRLF). Unlike str.splitlines, form feeds
    and Unicode separators inside an abstract do not start a new line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_page(text: str) -> Page:
    """Detect the format of a capture held in memory and split it into raw records.

    Raises LayoutError when the page is in no known format or holds no paper.
    """
    stream = PageStream(enumerate(split_lines(text.removeprefix(BOM)), start=1))
    records = list(stream.records())
    return Page(stream.layout, records, stream.header_date, stream.header_date_line_no, stream.problems, stream.capture)
