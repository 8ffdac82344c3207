"""Extract: find capture files and read them as numbered lines; ``etl.formats`` splits pages.

``discover`` and the capture readers touch the file system; ``parse_page`` is pure
(text in, ``Page`` out) so that every format's rules can be tested on a string.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import itertools
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import EncodingError, InputError, NoInputError
from .formats import PageStream
from .records import Page

log = logging.getLogger(__name__)

GLOB_CHARS = frozenset("*?[")
BOM = "\ufeff"

# --------------------------------------------------------------------------- files

READ_CHUNK_BYTES = 1 << 20  # files are read (hashed, decoded) in chunks this size, never whole
UTF8_BOM = BOM.encode()


@dataclass(frozen=True)
class Fingerprint:
    """A capture file as its first pass finds it (``fingerprint_file``): what decides "already loaded"."""

    path: Path
    sha256: str
    size_bytes: int
    mtime: float


# Files a folder walk or a glob takes by default: the capture formats (plain text, Markdown,
# HTML, JSON). Other files beside the captures (a database, its -wal file, a .jsonl export)
# are left alone instead of being refused on every run. Matched case-insensitively.
DEFAULT_INCLUDE = ("*.txt", "*.md", "*.markdown", "*.html", "*.htm", "*.json")


@dataclass(frozen=True)
class Selection:
    """Which files a folder walk or a glob takes.

    ``include`` / ``exclude`` are glob patterns matched against a file's name (or, for a
    pattern with a ``/``, its path below the folder or glob base), case-insensitively; a
    file named on the command line is always taken. ``protected`` files (the target
    database and its companion files) are never read, whatever the patterns or arguments.
    """

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    protected: tuple[Path, ...] = ()

    def takes(self, relative: str) -> bool:
        name = relative.rsplit("/", 1)[-1].casefold()
        relative = relative.casefold()

        def matches(pattern: str) -> bool:
            pattern = pattern.casefold()
            return fnmatch.fnmatchcase(relative if "/" in pattern else name, pattern)

        return any(map(matches, self.include)) and not any(map(matches, self.exclude))


@dataclass
class Discovery:
    """What the paths of a load name, in order: files to read, and refusals found while
    looking (a folder that cannot be read, a file name that is not UTF-8)."""

    entries: list[Path | InputError] = field(default_factory=list)
    ignored: int = 0  # files in folders or glob matches left out by --include / --exclude

    @property
    def files(self) -> list[Path]:
        return [entry for entry in self.entries if isinstance(entry, Path)]

    @property
    def refused(self) -> list[InputError]:
        return [entry for entry in self.entries if isinstance(entry, InputError)]


def discover(paths: Iterable[str | Path], selection: Selection | None = None) -> list[Path]:
    """The files of ``discover_inputs`` (refusals left out)."""
    return discover_inputs(paths, selection).files


def discover_inputs(paths: Iterable[str | Path], selection: Selection | None = None) -> Discovery:
    """Expand files, folders (recursively) and globs into a sorted, de-duplicated list.

    Each argument's own matches are sorted; arguments keep the order given. A
    symbolic link to a folder is followed once; a link back to a folder being
    walked (a loop) is named in a warning and skipped, so no walk or glob can run
    forever. Raises NoInputError naming the first argument that matches nothing.
    """
    selection = selection or Selection()
    walker = _Walker(selection)
    seen: set = set()
    for arg in paths:
        before, found = walker.ignored, walker.expand(os.fspath(arg))
        if not found and walker.ignored == before:
            raise NoInputError(
                f"{display_path(arg)}: no such file, folder or matching glob; "
                "check the path (quote globs so the shell keeps them)"
            )
        for entry, identity in found:
            if entry is not None and identity not in seen:
                seen.add(identity)
                walker.discovery.entries.append(entry)
    walker.discovery.ignored = walker.ignored
    return walker.discovery


def display_path(path: str | Path) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _not_utf8_name(path: str) -> InputError | None:
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(
            f"the file name is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); rename the file "
            "(convmv -f latin1 -t utf-8 --notest FILE) and load it again",
            display_path(path),
        )
    return None


_Found = list[tuple["Path | InputError", object]]  # an entry and what makes two entries one


class _Walker:
    """Folder walks and globs for one ``discover_inputs`` call: each real folder is walked once per argument."""

    def __init__(self, selection: Selection):
        self.selection = selection
        self.discovery = Discovery()
        self.ignored = 0
        self._walked: set[tuple[int, int]] = set()
        self._protected = _identities(selection.protected)

    def expand(self, arg: str) -> _Found:
        self._walked = set()  # per argument: a folder walked for an earlier one is walked again (its files dedupe)
        if not GLOB_CHARS & set(arg):
            if os.path.isdir(arg):
                return self._files_under(arg, lambda parts: True)
            return self._named_file(arg)
        base, pattern = _glob_base(arg)
        if "**" not in pattern:  # a glob without ** cannot recurse, so it cannot loop
            found: _Found = []
            for match in sorted(glob.glob(arg)):
                relative = os.path.relpath(match, base)
                if os.path.isdir(match):
                    found += self._files_under(match, lambda parts: True, prefix=tuple(relative.split(os.sep)))
                else:
                    found += self._globbed_file(match, relative)
            return found
        return self._files_under(base, lambda parts: _match_parts(pattern, parts), matched_only=True)

    def _named_file(self, path: str) -> _Found:
        if not os.path.isfile(path):
            return []
        identity = _identity(path)
        if identity in self._protected:
            log.warning("%s: the target database or one of its files, not a capture; not read", display_path(path))
            return [(None, identity)]
        refused = _not_utf8_name(path)
        return [(refused or Path(path), identity)]

    def _globbed_file(self, path: str, relative: str) -> _Found:
        if not os.path.isfile(path):
            return []
        identity = _identity(path)
        if identity in self._protected:
            return []
        if not self.selection.takes(relative):
            self.ignored += 1
            log.info("%s: not taken by --include / --exclude", display_path(path))
            return []
        return [(_not_utf8_name(path) or Path(path), identity)]

    def _files_under(self, top: str, wanted, matched_only: bool = False, prefix: tuple[str, ...] = ()) -> _Found:
        """Files below ``top`` (sorted by path), skipping dot files and dot folders (.git,
        .DS_Store: not captures). ``wanted(parts below top)``: whether a file or folder matches;
        with ``matched_only``, a file is taken when it or a folder above it matches. ``prefix``:
        the parts of ``top`` below the glob's base, for --include / --exclude patterns."""
        found: _Found = []
        if not os.path.isdir(top):
            return found
        root = _identity(top)
        if root in self._walked:
            return found
        self._walked.add(root)
        stack = [(top, prefix, (root,))]
        while stack:
            folder, parts, chain = stack.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as exc:
                found.append((_unreadable_folder(folder, exc), ("folder", folder)))
                continue
            below = []  # folders to walk next, in name order (the first spelling of a folder wins)
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                entry_parts = (*parts, entry.name)
                taken = (
                    not matched_only
                    or wanted(entry_parts)
                    or any(wanted(entry_parts[:n]) for n in range(1, len(entry_parts)))
                )
                try:
                    is_folder = entry.is_dir()
                    is_file = not is_folder and entry.is_file()
                except OSError:
                    is_folder = is_file = False
                if is_folder:
                    identity = _identity(entry.path)
                    if identity in chain:
                        log.warning("%s: a symbolic link back to a folder being walked (a loop); skipped",
                                    display_path(entry.path))  # fmt: skip
                    elif identity not in self._walked:
                        self._walked.add(identity)
                        below.append((entry.path, entry_parts, (*chain, identity)))
                elif is_file and taken:
                    found += self._globbed_file(entry.path, "/".join(entry_parts))
                elif not is_file and entry.is_symlink():
                    log.warning("%s: a broken symbolic link; skipped", display_path(entry.path))
            stack.extend(reversed(below))
        found.sort(key=lambda item: _sort_key(item[0]))
        return found


def _sort_key(entry: Path | InputError) -> tuple[str, ...]:
    return Path(entry.path if isinstance(entry, InputError) else entry).parts


def _unreadable_folder(folder: str, exc: OSError) -> InputError:
    return InputError(
        f"this folder cannot be read ({exc.strerror or exc}), so none of its files were loaded; "
        "check its permissions (or move it out of the input) and load again",
        display_path(folder),
    )


def _identity(path: str | Path) -> tuple[int, int] | str:
    """What makes two spellings of a file or folder one: device and inode (the real path
    if it cannot be read)."""
    try:
        st = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (st.st_dev, st.st_ino)


def _identities(paths: Iterable[Path]) -> set:
    found = set()
    for path in paths:
        found.add(os.path.realpath(path))
        if os.path.exists(path):
            found.add(_identity(path))
    return found


def _glob_base(pattern: str) -> tuple[str, list[str]]:
    """A recursive glob split into the folder before its first wildcard and the rest, by part."""
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if GLOB_CHARS & set(part):
            base = "/".join(parts[:index]) or ("/" if pattern.startswith("/") else ".")
            return base, [p for p in parts[index:] if p]
    return pattern, []


def _match_parts(pattern: list[str], parts: tuple[str, ...]) -> bool:
    """Glob parts against path parts: ``**`` matches any number of folders, others one name."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[skip:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _match_parts(rest, parts[1:])


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


def fingerprint_file(path: Path) -> Fingerprint:
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

    UTF-8 with or without BOM, LF, CRLF or CR-only line ends (a file whose first
    line end is a CR not followed by LF reads its CRs as line ends; elsewhere a
    stray CR stays in its line). Raises InputError for a binary file
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
    for chunk in _cr_line_ends(chunks):
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


def _cr_line_ends(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks as they are, or, in a file whose first line end is a lone CR (old Mac
    line ends), with every CR turned into LF: same length, so byte offsets stay exact."""
    chunks = iter(chunks)
    held, cr_only = _to_first_line_end(chunks)
    if not cr_only:
        yield from _handed_over(held)
        yield from chunks
        return
    for chunk in itertools.chain(_handed_over(held), chunks):
        yield chunk.replace(b"\r", b"\n")


def _to_first_line_end(chunks: Iterator[bytes]) -> tuple[list[bytes], bool]:
    """The chunks read up to the first line end (there may be none), and whether it is a lone CR."""
    held: list[bytes] = []
    for chunk in chunks:
        held.append(chunk)
        cr, lf = chunk.find(b"\r"), chunk.find(b"\n")
        if cr < 0 and lf < 0:
            continue
        if cr < 0 or 0 <= lf < cr:
            return held, False
        if cr == len(chunk) - 1:  # is the next byte, in the next chunk, an LF?
            following = next(chunks, b"")
            held.append(following)
            return held, not following.startswith(b"\n")
        return held, chunk[cr + 1 : cr + 2] != b"\n"
    return held, False


def _handed_over(held: list[bytes]) -> Iterator[bytes]:
    """The held chunks, each let go once handed over: memory holds one chunk at a time, not the first too."""
    while held:
        yield held.pop(0)


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
