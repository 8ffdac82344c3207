"""Untrusted text made safe to show on a terminal.

Titles, abstracts, excerpts, file names and query results come from captures and
databases that papers-etl does not control. Printed raw, an escape sequence in
them could recolour or clear the screen, rewrite earlier lines, set the window
title, or (OSC 52) write to the clipboard. ``printable`` shows every such
character as a visible escape instead: ESC as ``\\x1b``, the other C0 controls
except tab and newline, DEL, the C1 controls (``\\x9b`` is a one-byte CSI), the
Unicode bidirectional controls (which can make text read differently from what
it is) and lone surrogates (bytes of a file name that is not UTF-8, shown as the
byte). Everything else, accents and CJK and emoji included, is kept.

Use it for every human-readable output (tables, messages, log lines). JSON and
CSV output stay exact: their consumers are programs, not terminals.
"""

from __future__ import annotations

import re

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}{_SURROGATES}]")
_UNSAFE_ONE_LINE = re.compile(f"[\n\u2028\u2029{_CONTROLS}{_BIDI}{_SURROGATES}]")


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with terminal control characters shown as visible escapes (``\\x1b``, ``\\u202e``).

    ``one_line``: newlines (and the Unicode line and paragraph separators) are escaped too,
    for a value printed inside one line (a table cell, a ``refused …`` line), so that it
    cannot forge a line of its own.
    """
    if not isinstance(text, str):
        text = str(text)
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
