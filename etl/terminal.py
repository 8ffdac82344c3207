"""Text that is safe to print on a terminal.

Capture text is untrusted: an escape sequence in a title could move the cursor,
rewrite the screen or set the window title. ``printable`` shows every control
character as a visible escape instead.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (ESC's 8-bit forms).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with each control character (other than tab and newline) written as ``\\xNN``."""
    return _CONTROLS.sub(lambda match: f"\\x{ord(match[0]):02x}", text)
