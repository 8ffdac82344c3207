"""``daily_meta``: a daily listing as plain text, with each paper's card metadata.

As ``daily``, with a ``Daily Papers`` banner and, after each abstract, the
card's metadata: ``  • N authors`` (or an organisation), a ``·`` line and the
publication date (``Jun 7, 2023``, or ``May 29`` in the current year), with
perhaps a comment count after the date or on the next line.
"""

from __future__ import annotations

from .banners import header_listing_date, text_header
from .base import CaptureFormat, PageHead
from .daily import first_blocks_have_meta, split_blocks

NAME = "daily_meta"


def detect(head: PageHead) -> float:
    header = text_header(head)
    if header is None or header.glued_title or not header.blank_separated:
        return 0.0
    return 0.9 if header.daily_papers_banner or first_blocks_have_meta(head) else 0.0


FORMAT = CaptureFormat(
    name=NAME,
    description=(
        "A daily listing as plain text with card metadata: after each abstract, the author count (or "
        "organisation), a '·' line, the publication date and perhaps a comment count."
    ),
    detect=detect,
    split=split_blocks,
    listing_date=header_listing_date,
)
