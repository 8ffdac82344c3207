"""Transform: raw records into clean papers.

Where each field is parsed: titles and abstracts (``clean_text``), the
deduplication key (``title_key``), publication dates (``parse_published_on``),
author counts (``parse_author_count``), listing dates (``resolve_listed_on``) and
links (``etl.links.extract_links``). Everything here is pure: strings in,
dataclasses out.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import re
import unicodedata

from dateutil import parser as dateparser
from pylatexenc import latex2text
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec

from .extract import LISTING_DATE_RE, MONTHS
from .links import URL_RE, extract_links, may_hold_links, strip_trailing_punctuation
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

log = logging.getLogger(__name__)
# pylatexenc warns on stderr about markup it cannot render; the fallback below handles that.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)

# A date in a file name: 2026-03-12 or 20260312, standing alone (not touching a
# letter or digit), so that hex hashes such as "39951104f2" are not read as dates.
FILE_NAME_DATE_RE = re.compile(r"(?<![A-Za-z0-9])(\d{4})-?(\d{2})-?(\d{2})(?![A-Za-z0-9])")
FILE_NAME_YEARS = range(1990, 2100)
AUTHORS_RE = re.compile(r"^\s*•\s*(\d+)\s+authors?\s*$", re.IGNORECASE)
# Daily pages print a count (upvotes) after some dates: "May 25, 2025 2".
TRAILING_COUNT_RE = re.compile(r"^(?P<date>.*?\d{4})\s+\d{1,6}$")
USUAL_DATE_RE = re.compile(r"^(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}), (?P<year>\d{4})$")
FOUR_DIGIT_YEAR_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")
LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
# Characters that mean a text may hold LaTeX markup; text without them skips pylatexenc.
LATEX_CHARACTERS = ("\\", "$", "`", "{", "}", "''")
# Formatting commands whose backslash the capture lost ("mathcal{O}(d^2)", "$textbf{…}").
STRIPPED_COMMAND_RE = re.compile(
    r"(?<![\\A-Za-z])(?:mathcal|mathbf|mathrm|mathbb|mathit|mathsf|boldsymbol|textbf|textit|texttt|textrm|emph)\{"
)
UNESCAPED_SPECIAL_RE = re.compile(r"(?<!\\)(?P<char>[%&#])")
UNESCAPED_DOLLAR_RE = re.compile(r"(?<!\\)\$")
# Inline math: "$…$" whose content neither starts nor ends with a space (unlike "$5 and $10").
MATH_SPAN_RE = re.compile(r"(?<!\\)\$(?=[^\s$])(?:\\.|[^$\\])*?(?<=[^\s\\])\$")
# \url{…} and \href{…}{…}: the URL (and the link text) as plain text.
LATEX_URL_RE = re.compile(r"\\(?:url\s*\{(?P<url>[^{}\s]+)\}|href\s*\{(?P<href>[^{}\s]+)\}\s*\{(?P<text>[^{}]*)\})")
# A URL and a brace group glued to it: "{here}" or the URL repeated, both capture artefacts.
URL_WITH_ARTEFACT_RE = re.compile(r"(?P<url>" + URL_RE.pattern + r")(?:\{[^{}\s]*\})?", re.IGNORECASE)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Mathematical Alphanumeric Symbols ("\mathcal{O}" -> "𝒪") back to plain letters and digits.
_MATH_ALPHANUMERIC = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x1D400, 0x1D800)}
# Symbols pylatexenc renders from math that plain-text captures spell out ("\sqrt{T}" -> "√(T)" vs "sqrt(T)").
_SYMBOL_WORDS = {ord("√"): " sqrt "}
_ESCAPED_RE = re.compile(r"\\.")
_JOINERS_RE = re.compile(r"[-‐‑‒–'’]")
_WORD_RE = re.compile(r"[^\W_]+")
# Abbreviation macros papers define, and citations (which have no text of their own).
_EXTRA_MACROS = [
    MacroTextSpec("ie", "i.e."),
    MacroTextSpec("eg", "e.g."),
    MacroTextSpec("etal", "et al."),
    MacroTextSpec("wrt", "w.r.t."),
    MacroTextSpec("cf", "cf."),
    MacroTextSpec("vs", "vs."),
    MacroTextSpec("cite", ""),
    MacroTextSpec("citep", ""),
    MacroTextSpec("citet", ""),
    *(MacroTextSpec(name, f"{name} ") for name in ("log", "ln", "exp", "max", "min", "sup", "inf", "arg", "det")),
]
# Two defaults that differ in every field: a part the text does not give shows up as a difference.
_PROBE_DEFAULTS = (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2))
# A header date is resolved to a year at most this far before the file's mtime (covers Feb 29).
HEADER_YEAR_LOOKBACK = 8


def clean_text(text: str) -> str:
    """Unicode NFC, zero-width characters dropped, white space collapsed to single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return " ".join(text.split())


def normalise_text(raw: str) -> str:
    """Display text of a title or abstract: LaTeX markup turned into text, link
    artefacts removed, then ``clean_text``.

    URLs are set aside before the LaTeX conversion so that it cannot damage them.
    """
    text = LATEX_URL_RE.sub(_latex_url_as_text, clean_text(raw))
    latex = has_latex(text)
    links = may_hold_links(text)
    if not latex and not links:
        return text  # already clean: nothing to set aside or convert
    text, urls = _set_urls_aside(text) if links else (text, [])
    if latex:
        text = latex_to_text(text)
    for index, url in enumerate(urls):
        text = text.replace(_placeholder(index), url)
    return clean_text(text)


def has_latex(text: str) -> bool:
    """Whether text holds a LaTeX character (substring tests: much faster than a regex)."""
    return any(char in text for char in LATEX_CHARACTERS)


def latex_to_text(text: str) -> str:
    """LaTeX markup to plain Unicode text with pylatexenc; never raises.

    pylatexenc is only called for text that holds LaTeX characters (it is slow);
    if it fails on some input, a rough strip of commands, braces and dollars is
    used instead so that a load never stops on markup.
    """
    pieces = _latex_pieces(_prepare_latex(text))
    converted = " ".join(_convert_piece(piece) if has_latex(piece) else piece for piece in pieces)
    return converted.translate(_MATH_ALPHANUMERIC)


def _latex_pieces(text: str) -> list[str]:
    """Split text at spaces that are outside braces and math, so that only the
    pieces holding markup go through pylatexenc (its cost grows with length)."""
    pieces, current, depth, in_math = [], [], 0, False
    for word in text.split(" "):
        current.append(word)
        unescaped = _ESCAPED_RE.sub("", word)
        depth = max(0, depth + unescaped.count("{") - unescaped.count("}"))
        in_math ^= unescaped.count("$") % 2 == 1
        if depth == 0 and not in_math:
            pieces.append(" ".join(current))
            current = []
    if current:
        pieces.append(" ".join(current))
    return pieces


@functools.lru_cache(maxsize=65536)  # markup repeats ("$\mathcal{O}(n)$"); pylatexenc is slow
def _convert_piece(piece: str) -> str:
    try:
        converted = _latex_converter().latex_to_text(piece)
    except Exception:  # pylatexenc raises several types on malformed input
        log.debug("pylatexenc failed; stripping markup roughly", exc_info=True)
        return _strip_latex_roughly(piece)
    if "%s" in converted and "%s" not in piece:  # a macro missing its arguments ("$\frac{")
        return _strip_latex_roughly(piece)
    return converted


def title_key(title: str) -> str:
    """The deduplication key: the same paper gives the same key whatever its markup.

    Accents, case, punctuation, white space, hyphenation and LaTeX markup
    ("SE$(n)$" / "SE(n)", "R\\'enyi" / "Renyi") do not change the key.
    """
    return "".join(_folded_words(normalise_text(title)))


def abstract_key(abstract: str) -> str:
    """A fingerprint of the abstract's words (case, accents, markup and punctuation
    ignored); empty for an empty abstract. Used to find the same abstract under
    a different title."""
    return _abstract_key_of_clean_text(normalise_text(abstract))


def _abstract_key_of_clean_text(abstract: str) -> str:
    words = _folded_words(abstract)
    if not words:
        return ""
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()


def folded_text(text: str) -> str:
    """Words of ``text`` without accents, case or punctuation, space separated (for fuzzy comparison)."""
    return " ".join(_folded_words(text))


def _folded_words(text: str) -> list[str]:
    text = LATEX_COMMAND_RE.sub(" ", text).casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_SYMBOL_WORDS)).translate(_combining_marks())
    # Hyphens and apostrophes join a word ("re-weighting" = "reweighting"); other punctuation splits.
    text = _JOINERS_RE.sub("", text)
    return _WORD_RE.findall(text)


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Accents and other combining marks, for str.translate (built once, on the first non-ASCII text)."""
    return dict.fromkeys(cp for cp in range(0x300, 0x1F000) if unicodedata.combining(chr(cp)))  # all of them


def _latex_url_as_text(match: re.Match) -> str:
    if match["url"]:
        return match["url"]
    return f"{match['text']} ({match['href']})" if match["text"].strip() else match["href"]


def _set_urls_aside(text: str) -> tuple[str, list[str]]:
    """Replace each URL (and a "{here}" / "{URL}" artefact glued to it) by a placeholder."""
    urls: list[str] = []

    def aside(match: re.Match) -> str:
        url = strip_trailing_punctuation(match["url"])
        urls.append(url)
        return _placeholder(len(urls) - 1) + match["url"][len(url) :]

    return URL_WITH_ARTEFACT_RE.sub(aside, text), urls


def _placeholder(index: int) -> str:
    # Private-use characters: LaTeX conversion leaves them alone and no capture holds them.
    return f"\ue000{index}\ue001"


def _prepare_latex(text: str) -> str:
    """Make captured text safe for a LaTeX parser without changing what it says."""
    text = STRIPPED_COMMAND_RE.sub("{", text)  # "mathcal{O}" (backslash lost in capture) -> "{O}"
    text = UNESCAPED_SPECIAL_RE.sub(r"\\\g<char>", text)  # a literal %, & or # is not markup
    text = text.replace("~", r"\textasciitilde{}")  # "~10%" means "about", not a non-breaking space
    return _escape_dollars_outside_math(text)


def _escape_dollars_outside_math(text: str) -> str:
    """A $ outside a math span ("$5 and $10") is a dollar sign; one glued to markup is dropped."""
    pieces, position = [], 0
    for span in MATH_SPAN_RE.finditer(text):
        pieces += [_literal_dollars(text[position : span.start()]), span[0]]
        position = span.end()
    pieces.append(_literal_dollars(text[position:]))
    return "".join(pieces)


def _literal_dollars(text: str) -> str:
    text = re.sub(r"(?<!\\)\$(?=[{\\])", "", text)
    return UNESCAPED_DOLLAR_RE.sub(r"\\$", text)


def _strip_latex_roughly(text: str) -> str:
    text = re.sub(r"\\([%&#$_{}])", r"\1", text)
    text = LATEX_COMMAND_RE.sub("", text)
    return text.replace("{", "").replace("}", "").replace("$", "")


@functools.cache
def _latex_converter() -> LatexNodes2Text:
    context = latex2text.get_default_latex_context_db()
    context.add_context_category("papers-etl", prepend=True, macros=_EXTRA_MACROS)
    return LatexNodes2Text(latex_context=context, math_mode="text")


def parse_published_on(raw: str) -> dt.date:
    """A publication date such as "Jun 7, 2023" (a trailing count is ignored).

    Strict: a missing part, or a day that does not exist, raises ValueError.
    """
    text = raw.strip()
    match = TRAILING_COUNT_RE.match(text)
    if match:
        text = match["date"]
    usual = USUAL_DATE_RE.match(text)  # "Jun 7, 2023": skip dateutil (the slow path) for the printed form
    if usual and usual["month"].casefold() in MONTHS:
        try:
            return dt.date(int(usual["year"]), MONTHS[usual["month"].casefold()], int(usual["day"]))
        except ValueError:
            pass  # an impossible day: dateutil below words the error
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
    title = normalise_text(record.raw_title)
    title_words = _folded_words(title)
    key = "".join(title_words)
    abstract = normalise_text(record.raw_abstract or "")
    if not key:
        reason = "title has no letter or digit; check that the page was captured whole"
        return None, [Problem(LEVEL_RECORD, reason, record.line_no, excerpt(record.raw_title))]
    problems: list[Problem] = []
    published_on = _field(parse_published_on, record.raw_published, record.published_line_no, problems)
    author_count = _field(parse_author_count, record.raw_authors, record.authors_line_no, problems)
    paper = Paper(
        title=title,
        title_key=key,
        abstract=abstract,
        published_on=published_on,
        author_count=author_count,
        links=extract_links(record.raw_abstract or ""),
        abstract_key=_abstract_key_of_clean_text(abstract),
        folded_title=" ".join(title_words),
    )
    return paper, problems


def record_from_listing(
    position: int, line_no: int, raw_title: str, raw_abstract: str, raw_meta: str | None
) -> RawRecord:
    """A RawRecord back from its ``listings`` row (for rebuilds); the metadata lines
    are told apart by their bullet ("• 13 authors") as on the page."""
    authors = published = None
    for line in (raw_meta or "").split("\n"):
        if line.strip().startswith("•"):
            authors = line
        elif line.strip():
            published = line
    return RawRecord(position, line_no, raw_title, raw_abstract, raw_authors=authors, raw_published=published)


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
