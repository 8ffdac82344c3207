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
from dataclasses import replace

from dateutil import parser as dateparser
from pylatexenc import latex2text
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec

from .formats.banners import LISTING_DATE_RE, MONTHS
from .formats.card_lines import AUTHOR_COUNT_RE, COUNT_LINE_RE, DATE_LINE_RE, is_author_line, is_date_line
from .links import URL_RE, extract_links, links_from_urls, may_hold_links, strip_trailing_punctuation, union_links
from .records import (
    FOUND_IN_CARD,
    LEVEL_FIELD,
    LEVEL_RECORD,
    LISTED_ON_FILE_NAME,
    LISTED_ON_HEADER,
    LISTED_ON_OPTION,
    LISTED_ON_PAGE_URL,
    NO_CARD,
    PAGE_SEARCH,
    PAGE_TRENDING,
    Capture,
    CardFacts,
    Link,
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
# Daily pages print the comment count after some dates: "May 25, 2025 2".
TRAILING_COUNT_RE = re.compile(r"^(?P<date>.*?\d{4})\s+\d{1,6}$")
PUBLISHED_ON_PREFIX_RE = re.compile(r"^\s*published\s+on\s+", re.IGNORECASE)
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
URL_WITH_ARTEFACT_RE = re.compile(r"(?P<url>" + URL_RE.pattern + r")(?:\{[^{}\s]*\})?", URL_RE.flags)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_ZERO_WIDTH_CHARACTERS = frozenset(map(chr, _ZERO_WIDTH))
_PLACEHOLDER_START = "\ue000"  # of a URL set aside (_placeholder)
# Control characters: C0 but tab and line ends (which are white space here), DEL, C1.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Mathematical Alphanumeric Symbols ("\mathcal{O}" -> "𝒪") back to plain letters and digits.
_MATH_ALPHANUMERIC = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x1D400, 0x1D800)}
# Symbols pylatexenc renders from math that plain-text captures spell out ("\sqrt{T}" -> "√(T)" vs "sqrt(T)").
_SYMBOL_WORDS = {ord("√"): " sqrt "}
_ESCAPED_RE = re.compile(r"\\.")
_JOINERS_RE = re.compile(r"[-‐‑‒–'’]")
_WORD_RE = re.compile(r"[^\W_]+")
# _folded_words for ASCII text, as bytes.translate tables: letters lower-cased, digits kept, the
# joiners of _JOINERS_RE ("-", "'") dropped, any other character a space (it splits words).
_ASCII_FOLD = bytes(ord(chr(byte).lower()) if chr(byte).isalnum() and byte < 128 else ord(" ") for byte in range(256))
_ASCII_JOINERS = b"-'"
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
# Search results and the trending page print the day they were viewed, not a listing date.
UNLISTED_PAGE_KINDS = (PAGE_SEARCH, PAGE_TRENDING)
# A header date is resolved to a year at most this far before the file's mtime (covers Feb 29).
HEADER_YEAR_LOOKBACK = 8


def clean_text(text: str) -> str:
    """Unicode NFC, zero-width and control characters dropped, white space collapsed to single spaces."""
    if text.isascii():  # NFC already, no zero-width character
        if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text  # no control character, no white space but single spaces between words
    else:
        text = unicodedata.normalize("NFC", text)
        if not _ZERO_WIDTH_CHARACTERS.isdisjoint(text):
            text = text.translate(_ZERO_WIDTH)
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    return " ".join(text.split())


def normalise_text(raw: str) -> str:
    """Display text of a title or abstract: LaTeX markup turned into text, link
    artefacts removed, then ``clean_text``.

    URLs are set aside before the LaTeX conversion so that it cannot damage them.
    """
    text = clean_text(raw)
    if "\\url" in text or "\\href" in text:  # LATEX_URL_RE cannot match without one of them
        text = LATEX_URL_RE.sub(_latex_url_as_text, text)
    latex = has_latex(text)
    links = may_hold_links(text)
    if not latex and not links:
        return text  # already clean: nothing to set aside or convert
    if not latex and _PLACEHOLDER_START not in text:
        # Without LaTeX there is no "{", so no artefact glued to a URL: setting the URLs aside
        # and putting them back gives the same text, which only the final clean_text can change.
        return text if text.isascii() else clean_text(text)
    text, urls = _set_urls_aside(text) if links else (text, [])
    if latex:
        text = latex_to_text(text)
    for index, url in enumerate(urls):
        text = text.replace(_placeholder(index), url)
    return clean_text(text)


def has_latex(text: str) -> bool:
    """Whether text holds a LaTeX character (substring tests: much faster than a regex)."""
    # LATEX_CHARACTERS spelt out: any() over a generator costs more than the tests themselves.
    return "\\" in text or "$" in text or "{" in text or "}" in text or "`" in text or "''" in text


def latex_to_text(text: str) -> str:
    """LaTeX markup to plain Unicode text with pylatexenc; never raises.

    pylatexenc is only called for text that holds LaTeX characters (it is slow);
    if it fails on some input, a rough strip of commands, braces and dollars is
    used instead so that a load never stops on markup.
    """
    pieces = _latex_pieces(_prepare_latex(text))
    converted = " ".join(_convert_piece(piece) if has_latex(piece) else piece for piece in pieces)
    return converted if converted.isascii() else converted.translate(_MATH_ALPHANUMERIC)


def _latex_pieces(text: str) -> list[str]:
    """Split text at spaces that are outside braces and math, so that only the
    pieces holding markup go through pylatexenc (its cost grows with length)."""
    pieces, current, depth, in_math = [], [], 0, False
    for word in text.split(" "):
        current.append(word)
        if has_latex(word):  # a plain word changes neither the depth nor the math
            unescaped = _ESCAPED_RE.sub("", word) if "\\" in word else word
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
    if "\\" not in abstract and abstract.isascii():  # _folded_words' ASCII path, kept in bytes
        folded = b" ".join(abstract.encode().translate(_ASCII_FOLD, _ASCII_JOINERS).split())
        return hashlib.blake2b(folded, digest_size=16).hexdigest() if folded else ""
    words = _folded_words(abstract)
    if not words:
        return ""
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()


def folded_text(text: str) -> str:
    """Words of ``text`` without accents, case or punctuation, space separated (for fuzzy comparison)."""
    return " ".join(_folded_words(text))


def _folded_words(text: str) -> list[str]:
    if "\\" in text:
        text = LATEX_COMMAND_RE.sub(" ", text)
    if text.isascii():  # one pass in C: case folded, joiners dropped, other punctuation a space
        return text.encode().translate(_ASCII_FOLD, _ASCII_JOINERS).decode().split()
    text = text.casefold()
    if not text.isascii():
        if "√" in text:  # the only key of _SYMBOL_WORDS
            text = text.translate(_SYMBOL_WORDS)
        text = unicodedata.normalize("NFKD", text).translate(_combining_marks())
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
    return f"{_PLACEHOLDER_START}{index}\ue001"


def _prepare_latex(text: str) -> str:
    """Make captured text safe for a LaTeX parser without changing what it says."""
    if "{" in text:
        text = STRIPPED_COMMAND_RE.sub("{", text)  # "mathcal{O}" (backslash lost in capture) -> "{O}"
    if "%" in text or "&" in text or "#" in text:
        text = UNESCAPED_SPECIAL_RE.sub(r"\\\g<char>", text)  # a literal %, & or # is not markup
    text = text.replace("~", r"\textasciitilde{}")  # "~10%" means "about", not a non-breaking space
    return _escape_dollars_outside_math(text) if "$" in text else text  # each of its patterns needs a $


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


@functools.lru_cache(maxsize=8192)  # pure, and pages print the same few thousand dates again and again
def parse_published_on(raw: str, year_bound: dt.date | None = None) -> dt.date:
    """A publication date as a card prints it: "Jun 7, 2023", "Published on Dec 28, 2024",
    or "May 29" without a year, which is the latest such date not after ``year_bound``
    (the listing date, else the capture time, else the file's time). A comment count
    after the date ("May 25, 2025 2", "May 29 6", "Mar 13 [ 3]") is not part of it.

    Strict: a missing part, or a day that does not exist, raises ValueError.
    """
    text = PUBLISHED_ON_PREFIX_RE.sub("", raw.strip())
    card = DATE_LINE_RE.match(text)
    if card:
        text = card["date"]
    else:
        match = TRAILING_COUNT_RE.match(text)
        if match:
            text = match["date"]
    if card and not FOUR_DIGIT_YEAR_RE.search(text):
        return _date_without_year(raw, LISTING_DATE_RE.match(text), year_bound)
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


def _date_without_year(raw: str, match: re.Match | None, year_bound: dt.date | None) -> dt.date:
    month = MONTHS.get(match["month"].casefold()) if match else None
    if month is None:
        raise ValueError(f"publication date {raw.strip()!r} is not a real date (unknown month)")
    if year_bound is None:
        raise ValueError(
            f"publication date {raw.strip()!r} has no year and the page has no listing or capture date to "
            "take it from (pass --listed-on YYYY-MM-DD)"
        )
    date = latest_date_not_after(month, int(match["day"]), year_bound)
    if date is None:
        raise ValueError(f"publication date {raw.strip()!r} is not a real date")
    return date


def latest_date_not_after(month: int, day: int, bound: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after ``bound`` (Feb 29 looks back to a leap year)."""
    for year in range(bound.year, bound.year - HEADER_YEAR_LOOKBACK, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= bound:
            return candidate
    return None


@functools.lru_cache(maxsize=1024)  # pure; "  • 13 authors" and the like repeat on every page
def parse_author_count(raw: str) -> int | None:
    """ "  • 13 authors", "- 13 authors", "* 1 author", "13 authors" -> the count.

    An organisation printed where the count would be ("OCC") means the count is
    unknown: None, not an error. An author line whose count is unreadable
    ("• many authors") raises ValueError.
    """
    match = AUTHOR_COUNT_RE.match(raw)
    if match and int(match["count"]) >= 1:
        return int(match["count"])
    name = raw.strip().lstrip("•*-").strip()
    if match or "author" in raw.casefold() or not any(char.isalpha() for char in name):
        raise ValueError(f"author count {raw.strip()!r} is not '• N authors' with N ≥ 1")
    return None  # an organisation's name


def sighting_card(record: RawRecord) -> CardFacts:
    """This sighting's card values: those a card-reading format gave, and the comment count a
    plain-text page prints after the date (or on the next line)."""
    if record.card.comments is not None:
        return record.card
    comments = parse_comments(record)
    return record.card if comments is None else replace(record.card, comments=comments)


def parse_comments(record: RawRecord) -> int | None:
    """The comment count a card prints after its date or on the line after it, or None."""
    if record.raw_comments is not None:
        match = COUNT_LINE_RE.match(record.raw_comments)
        return int(match["count"]) if match else None
    if record.raw_published is None:
        return None
    card = DATE_LINE_RE.match(PUBLISHED_ON_PREFIX_RE.sub("", record.raw_published.strip()))
    if card and card["comments"]:
        return int(card["comments"])
    trailing = TRAILING_COUNT_RE.match(record.raw_published.strip())
    return int(record.raw_published.split()[-1]) if trailing else None


# What a title or an abstract cannot be: text the page prints around papers, taken for one.
_URL_ONLY_RE = re.compile(r"^<?(?:https?://|www\.)\S+>?$", re.IGNORECASE)
_NUMBER_ONLY_RE = re.compile(r"^[\[(]?\s*[-+]?[\d.,]+\s*[kKmM]?\s*[\])]?$")
_MARKDOWN_SYNTAX_RE = re.compile(r"^#{1,6}\s|^\[[^\]]*\]\(|^\[[^\]]*\]\[|^!\[|\]\(https?://")
MAX_TITLE_CHARS = 400  # the longest arXiv titles are about 300 characters
MIN_ABSTRACT_CHARS = 10  # and two words: a lone "·", "6", "May 29" or "Log In" is page text, not an abstract


def implausible(title: str, abstract: str) -> str | None:
    """Why a record is not a paper (a URL, a number, an author line, a date, Markdown
    taken for its title; a URL or a few characters taken for its abstract), or None."""
    if _URL_ONLY_RE.match(title):
        return "the title is a URL"
    if _NUMBER_ONLY_RE.match(title):
        return "the title is a number"
    if _MARKDOWN_SYNTAX_RE.search(title):
        return "the title is Markdown heading or link syntax"
    if is_author_line(title):
        return "the title is an author line"
    if is_date_line(title):
        return "the title is a date"
    if len(title) > MAX_TITLE_CHARS:
        return f"the title is {len(title)} characters long, longer than any paper title"
    if _URL_ONLY_RE.match(abstract):
        return "the abstract is a URL"
    if abstract and (len(abstract) < MIN_ABSTRACT_CHARS or " " not in abstract):  # empty: none was printed
        return f"the abstract is {abstract!r}, too short for an abstract"
    return None


def transform_record(record: RawRecord, year_bound: dt.date | None = None) -> tuple[Paper | None, list[Problem]]:
    """One raw record to a Paper. A bad field is NULL plus a field-level Problem;
    a record that cannot be a paper at all is None plus a record-level Problem.
    ``year_bound``: the date a publication date printed without a year is not after."""
    title = normalise_text(record.raw_title)
    title_words = _folded_words(title)
    key = "".join(title_words)
    abstract = normalise_text(record.raw_abstract or "")
    if not key:
        reason = "title has no letter or digit; check that the page was captured whole"
        return None, [Problem(LEVEL_RECORD, reason, record.line_no, excerpt(record.raw_title))]
    why = implausible(record.raw_title.strip(), abstract)
    if why:
        reason = f"not a paper: {why}; the page is probably not in the layout it was read as"
        return None, [Problem(LEVEL_RECORD, reason, record.line_no, excerpt(record.raw_title))]
    problems: list[Problem] = []
    published_on = _field(
        lambda raw: parse_published_on(raw, year_bound), record.raw_published, record.published_line_no, problems
    )
    names = record.card.author_names
    if names is not None:  # the capture names the authors: the count is theirs
        author_count = len(names) or None
    else:
        author_count = _field(parse_author_count, record.raw_authors, record.authors_line_no, problems)
    paper = Paper(
        title=title,
        title_key=key,
        abstract=abstract,
        published_on=published_on,
        author_count=author_count,
        links=_record_links(record),
        abstract_key=_abstract_key_of_clean_text(abstract),
        folded_title=" ".join(title_words),
        arxiv_id=record.card.arxiv_id,
        author_names=names or (),
    )
    return paper, problems


def _record_links(record: RawRecord) -> tuple[Link, ...]:
    """Links in the abstract's text and in its Markdown links, and the card's own GitHub link."""
    links = extract_links(record.raw_abstract or "")
    card = record.card
    if card.abstract_urls:
        links = (*links, *links_from_urls(card.abstract_urls))
    card_urls = [url for url in (card.github_url, card.project_page) if url]
    if card_urls:
        links = (*links, *(replace(link, found_in=FOUND_IN_CARD) for link in links_from_urls(card_urls)))
    return union_links(links) if card.abstract_urls or card_urls else links


def record_from_listing(
    position: int, line_no: int, raw_title: str, raw_abstract: str, raw_meta: str | None, card: CardFacts = NO_CARD
) -> RawRecord:
    """A RawRecord back from its ``listings`` row (for rebuilds). The metadata lines are
    in page order: the author line (or the organisation printed in its place), the date,
    a comment count on its own line; each is told apart by what it says."""
    fields: dict = {}
    for line in (raw_meta or "").split("\n"):
        if not line.strip():
            continue
        if "raw_authors" not in fields and "raw_published" not in fields and not _starts_with_month(line):
            fields["raw_authors"] = line
        elif "raw_published" not in fields and not (fields and COUNT_LINE_RE.match(line)):
            fields["raw_published"] = line
        else:
            fields["raw_comments"] = line
    return RawRecord(position, line_no, raw_title, raw_abstract, **fields, card=card)


def _starts_with_month(line: str) -> bool:
    """A date line: it starts with a month's name, or is an ISO date (papers API captures)."""
    text = PUBLISHED_ON_PREFIX_RE.sub("", line.strip())
    words = text.split(maxsplit=1)
    return bool(words) and (words[0].rstrip(".,").casefold() in MONTHS or ISO_DATE_RE.match(text) is not None)


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
    capture: Capture | None = None,
) -> ListingDate:
    """The page's listing date and the rule that gave it.

    Order: the --listed-on option; the date of a dated page URL the capture
    gives (/papers/date/2025-03-12); a date in the file name; the header's month
    and day in the latest year where that date is not after the capture time
    (else the file's modification date, local time); otherwise unknown.
    """
    if option is not None:
        return ListingDate(option, LISTED_ON_OPTION)
    if capture is not None and capture.listed_on is not None:
        return ListingDate(capture.listed_on, LISTED_ON_PAGE_URL)
    from_name = date_in_file_name(file_name)
    if from_name is not None:
        return ListingDate(from_name, LISTED_ON_FILE_NAME)
    latest = year_bound(None, capture, mtime)
    if header_date is None or latest is None or (capture is not None and capture.page_kind in UNLISTED_PAGE_KINDS):
        return ListingDate(None, None)
    match = LISTING_DATE_RE.match(header_date.strip())
    month = MONTHS.get(match["month"].casefold()) if match else None
    candidate = latest_date_not_after(month, int(match["day"]), latest) if month is not None else None
    if candidate is not None:
        return ListingDate(candidate, LISTED_ON_HEADER)
    problem = Problem(
        LEVEL_FIELD,
        f"listing date {header_date!r} is not a real month and day; listed_on is NULL (pass --listed-on YYYY-MM-DD)",
        header_line_no,
        excerpt(header_date),
    )
    return ListingDate(None, None, problem)


def year_bound(listed_on: dt.date | None, capture: Capture | None, mtime: float | None) -> dt.date | None:
    """The date that a date printed without a year is not after: the listing date, else the
    capture time, else the file's modification time (local time)."""
    if listed_on is not None:
        return listed_on
    if capture is not None and capture.captured_at is not None:
        return capture.captured_at.date()
    return dt.datetime.fromtimestamp(mtime).date() if mtime is not None else None


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
