"""Hugging Face papers cards in Markdown captures: a pure parser (text in, cards out).

Web-to-markdown tools write a papers page in several shapes (inline links, reference
links, one URL per line, a trending page's doubled cards, a crawler's summary), but two
things are stable in all of them: each card's paper URL ``huggingface.co/papers/<arXiv
id>`` and the page's banners. Cards are anchored on those, never on one tool's spacing.

The Markdown is read by markdown-it-py, once per text: headings, links and their
hrefs, images and line maps come from its token stream. Regular expressions only read
plain text after that (a date, a count, a URL printed as text). Nothing here touches
files or a database.

Card styles read (tests/data/markdown/ has a page of each):

- inline links: ``[101](…login?next=%2Fpapers%2FID)``, ``### [Title](…/papers/ID)``,
  ``[abstract](…/papers/ID)``, an organisation or ``[- 3 authors](…)``, ``·``, ``May 29[6](…#community)``;
- reference links: ``### [Title][36]`` with ``[36]: URL`` at the end, or without it when
  the capture was cut (the card keeps its structure, without a URL);
- notebook exports: each link's text on a line, its URL alone on a later line;
- trending cards: ``Submitted by`` a user, ``[Upvote`` / ``117](…)``, ``[GitHub 1.32k](…)``,
  ``[arXiv Page](…)``, each card shown twice (merged by arXiv id: one card);
- crawler summaries: ``### Title`` (maybe wrapped onto a second line), abstract,
  ``- 28 authors``, ``[LINK: GitHub 1.32k](…)``, no link to the paper.

``parse_cards`` gives the cards and the problems (junk that is no card: ``record``; a
field that cannot be read: ``field``); ``detect_markdown`` says how sure it is that a
text is such a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from ..records import LEVEL_FIELD, LEVEL_RECORD, Problem, excerpt
from .banners import NAVIGATION_TEXTS, is_banner

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

DETECT_LINES = 200  # the detector looks at this many lines at most

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Card:
    """One paper card as the page shows it: raw text, counts as printed."""

    position: int  # 1-based order on the page, duplicates merged
    line_no: int  # line of the title, 1-based in the given text
    raw_title: str
    raw_abstract: str
    paper_url: str | None = None
    arxiv_id: str | None = None  # as Hugging Face prints it: "2606.00683"
    upvotes: int | None = None  # None: not shown, or shown as "-"
    comments: int | None = None
    raw_authors: str | None = None  # "3 authors"
    author_count: int | None = None
    authors_line_no: int | None = None
    organization: str | None = None
    submitted_by: str | None = None
    raw_published: str | None = None  # as printed: "May 29", "Published on Oct 4, 2026"
    published_line_no: int | None = None
    github_url: str | None = None
    github_stars: int | None = None  # "1.32k" -> 1320
    # URLs of Markdown links inside the abstract, whose text alone is in raw_abstract.
    abstract_links: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CardPage:
    cards: tuple[Card, ...] = ()
    problems: tuple[Problem, ...] = ()


# --------------------------------------------------------------------------- plain-text rules

# arXiv identifiers: new style (2606.00683, 2606.00683v2) and old style (hep-th/9901001).
ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?"
ARXIV_ID_RE = re.compile(rf"^{ARXIV_ID}$")
# A URL printed as text ends where Markdown syntax starts (``](``, ``)``, ``]``, ``>``).
BARE_URL_RE = re.compile(r"https?://[^\s\[\]()<>]+")
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE_RE = re.compile(rf"(?:Published\s+on\s+)?{MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?(?!\d)")
DATE_ONLY_RE = re.compile(rf"^(?:Published\s+on\s+)?{MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?$", re.IGNORECASE)
AUTHORS_RE = re.compile(r"(?<![\w.])(\d[\d,]*)\s+authors?\b", re.IGNORECASE)
AUTHOR_LINE_RE = re.compile(r"^\W*\d[\d,]*\s+authors?\W*$", re.IGNORECASE)
COUNT_RE = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)\s*([kKmM])?(?![\w.])|(?<!\w)-(?!\w)")
STARS_RE = re.compile(r"GitHub\W*(\d+(?:[.,]\d+)*\s*[kKmM]?)", re.IGNORECASE)
NUMBER_ONLY_RE = re.compile(r"^[\d\s.,+-]*$")
# Image placeholders some tools print instead of an image: "[图片：无替代文本]", "[Image: logo]".
IMAGE_PLACEHOLDER_RE = re.compile(r"\[(?:图片|圖片|image|img|picture)\s*[:：][^\]\n]*\]", re.IGNORECASE)
BROKEN_LINK_END_RE = re.compile(r"\]\(\s*https?://[^\s()]*\s*\)$|\]\s*\[\s*\d+\s*\]$")  # "…](URL)", "…][37]"
TRAILING_BREAK_RE = re.compile(r"\\+\s*$")
INNER_BREAK_RE = re.compile(r"\s*\\+\s+")  # "Engage\  with": a flattened line-break marker

SUBMITTED_BY = "submitted by"
MIN_ABSTRACT_CHARS = 40
MIN_ABSTRACT_WORDS = 5
MAX_TITLE_CHARS = 400
MAX_FIELD_CHARS = 60  # "· Published on Dec 28, 2024", "- 671 authors": metadata lines are short

# Page chrome besides the banners (banners.is_banner): the site's navigation and capture-tool headings.
CHROME_TEXTS = NAVIGATION_TEXTS | {"extracted text", "daily papers - hugging face"}
CHROME_PREFIXES = ("web source", "hugging face -")
# First path segments of huggingface.co that are site pages, not a user or an organisation.
HF_SITE_PATHS = frozenset(
    {
        "papers", "login", "join", "models", "datasets", "spaces", "docs", "pricing", "enterprise",
        "storage", "blog", "learn", "posts", "collections", "settings", "tasks", "chat", "search",
        "organizations", "front", "avatars", "api", "terms-of-service", "privacy", "changelog",
    }
)  # fmt: skip


def _is_banner(text: str) -> bool:
    flat = " ".join(text.split()).casefold()
    return is_banner(text) or flat in CHROME_TEXTS or flat.startswith(CHROME_PREFIXES)


def _hf_path(href: str) -> tuple[str, ...] | None:
    """The path segments of a huggingface.co URL, or None for another host."""
    parts = urlsplit(href)
    if parts.hostname not in ("huggingface.co", "www.huggingface.co"):
        return None
    return tuple(segment for segment in parts.path.split("/") if segment)


def paper_id(href: str) -> str | None:
    """``2606.00683`` for ``https://huggingface.co/papers/2606.00683`` (no ``#fragment``)."""
    path = _hf_path(href)
    if path and len(path) == 2 and path[0] == "papers" and ARXIV_ID_RE.match(path[1]) and "#" not in href:
        return unversioned(path[1])
    return None


def community_id(href: str) -> str | None:
    """The paper of a ``huggingface.co/papers/<id>#community`` link (its comment count)."""
    path = _hf_path(href)
    if path and len(path) == 2 and path[0] == "papers" and urlsplit(href).fragment == "community":
        return unversioned(path[1]) if ARXIV_ID_RE.match(path[1]) else None
    return None


def upvote_id(href: str) -> str | None:
    """The paper of an upvote link, ``huggingface.co/login?next=%2Fpapers%2F<id>``."""
    if _hf_path(href) != ("login",):
        return None
    for target in parse_qs(urlsplit(href).query).get("next", []):
        segments = [segment for segment in target.split("/") if segment]
        if len(segments) == 2 and segments[0] == "papers" and ARXIV_ID_RE.match(segments[1]):
            return unversioned(segments[1])
    return None


def profile_name(href: str) -> str | None:
    """``occ-ai`` for ``https://huggingface.co/occ-ai``: a user or an organisation."""
    path = _hf_path(href)
    if path and len(path) == 1 and path[0].lower() not in HF_SITE_PATHS:
        return path[0]
    return None


def arxiv_link_id(href: str) -> str | None:
    """The id of an ``arxiv.org/abs/<id>`` or ``arxiv.org/pdf/<id>[.pdf]`` link."""
    parts = urlsplit(href)
    if parts.hostname not in ("arxiv.org", "www.arxiv.org", "export.arxiv.org"):
        return None
    match = re.match(rf"^/(?:abs|pdf)/({ARXIV_ID})(?:\.pdf)?/?$", parts.path)
    return unversioned(match.group(1)) if match else None


def unversioned(arxiv_id: str) -> str:
    """``2412.22222`` for ``2412.22222v2``: a paper is one id whatever its version."""
    return re.sub(r"v\d+$", "", arxiv_id)


def is_github_repo(href: str) -> bool:
    parts = urlsplit(href)
    path = [segment for segment in parts.path.split("/") if segment]
    return parts.hostname in ("github.com", "www.github.com") and len(path) >= 2


def parse_count(text: str) -> tuple[bool, int | None]:
    """The last count in ``text``: (found, value). ``-`` is found with no value; ``1.32k`` is 1320."""
    matches = list(COUNT_RE.finditer(text))
    if not matches:
        return False, None
    last = matches[-1]
    if last.group(1) is None:  # "-": the page shows no count
        return True, None
    number, suffix = last.group(1).replace(",", ""), (last.group(2) or "").lower()
    if suffix:
        return True, round(float(number) * (1000 if suffix == "k" else 1_000_000))
    if "." in number:  # "1.5" of something is no count
        return False, None
    return True, int(number)


def _clean(text: str) -> str:
    """Placeholders gone, white space collapsed: for short fields (names, counts)."""
    return " ".join(IMAGE_PLACEHOLDER_RE.sub(" ", text).split())


def join_wrapped(text: str) -> str:
    """A field wrapped over several lines as one line: each line stripped, a trailing ``\\``
    line-break marker dropped (also one flattened inside a line), joined with a space."""
    lines = (TRAILING_BREAK_RE.sub("", line).strip() for line in text.split("\n"))
    joined = " ".join(line for line in lines if line)
    return INNER_BREAK_RE.sub(" ", joined).strip()


# --------------------------------------------------------------------------- Markdown -> blocks


@dataclass(frozen=True)
class Link:
    href: str | None  # None: a reference link whose definition is missing (a cut capture)
    text: str
    bare: bool = False  # a URL printed as text, not Markdown link syntax


@dataclass(frozen=True)
class Block:
    """One leaf block (heading, paragraph, code) in plain text, with its links."""

    line: int  # 1-based first line
    end_line: int  # 1-based last line
    heading: int  # heading level, 0 for a paragraph
    in_list: bool
    text: str  # link texts included, images dropped, line breaks as "\n"
    outside: str  # the text outside links
    links: tuple[Link, ...]
    paired: bool = False  # a notebook export's URL line was joined to it

    @cached_property
    def flat(self) -> str:
        """The text on one line, image placeholders dropped: what the rules below read."""
        return _clean(self.text)

    def hrefs(self) -> Iterator[tuple[Link, str]]:
        for link in self.links:
            if link.href:
                yield link, link.href


def _missing_reference(state: StateInline, silent: bool) -> bool:
    """``[text][36]`` whose ``[36]: URL`` definition is missing (the capture was cut):
    a link without href, so that the card keeps its structure. Numeric labels only,
    as text dumps number their references; ``[-]`` or ``[image]`` stay text."""
    if state.src[state.pos] != "[":
        return False
    label_end = state.md.helpers.parseLinkLabel(state, state.pos, True)
    if label_end < 0 or label_end + 1 >= state.posMax or state.src[label_end + 1] != "[":
        return False
    ref_end = state.src.find("]", label_end + 2, state.posMax)
    if ref_end < 0 or not state.src[label_end + 2 : ref_end].strip().isdigit():
        return False
    if not silent:
        old_max = state.posMax
        state.pos, state.posMax = state.pos + 1, label_end
        token = state.push("link_open", "a", 1)
        token.meta["missing_reference"] = state.src[label_end + 2 : ref_end].strip()
        state.linkLevel += 1
        state.md.inline.tokenize(state)
        state.linkLevel -= 1
        state.push("link_close", "a", -1)
        state.posMax = old_max
    state.pos = ref_end + 1
    return True


@cache  # built at the first Markdown page: markdown-it-py's import would slow every command's start
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True})
    md.inline.ruler.after("link", "missing_reference", _missing_reference)
    return md


def _inline_parts(children: Sequence[Token]) -> tuple[str, str, list[Link]]:
    """Plain text, text outside links, and the links of one inline token's children."""
    text: list[str] = []
    outside: list[str] = []
    links: list[Link] = []
    open_link: tuple[str | None, list[str]] | None = None
    for child in children:
        piece = ""
        if child.type == "text":
            piece = child.content
        elif child.type == "code_inline":
            piece = child.markup + child.content + child.markup
        elif child.type in ("em_open", "em_close", "strong_open", "strong_close"):
            # Cards show plain text: an asterisk or underscore pair in a title or an
            # abstract is text a capture tool did not escape ("a*b and c*d").
            piece = child.markup
        elif child.type == "html_inline":
            piece = "" if _is_markup_tag(child.content) else child.content  # "List<String>" is text
        elif child.type in ("softbreak", "hardbreak"):
            piece = "\n"
        elif child.type == "link_open":
            href = child.attrs.get("href")
            open_link = (str(href) if href and "missing_reference" not in child.meta else None, [])
            continue
        elif child.type == "link_close" and open_link is not None:
            links.append(Link(open_link[0], "".join(open_link[1])))
            open_link = None
            continue
        # images, anchors: nothing to keep
        if not piece:
            continue
        text.append(piece)
        if open_link is not None:
            open_link[1].append(piece)
        else:
            outside.append(piece)
    return "".join(text), "".join(outside), links


MARKUP_TAGS = frozenset({"a", "br", "img", "span", "div", "p", "sup", "sub", "b", "i", "em", "strong"})


def _is_markup_tag(html: str) -> bool:
    """``<a id="x">``, ``</a>``, ``<br/>``: page markup a capture tool left, not text."""
    name = html.strip("</>").split(None, 1)[0].lower().rstrip("/") if html.strip("</>") else ""
    return name in MARKUP_TAGS


def _with_bare_urls(text: str, links: list[Link]) -> tuple[Link, ...]:
    """Add the URLs printed as text (a link broken by a blank line, a notebook's URL line)."""
    bare = []
    for match in BARE_URL_RE.finditer(text):
        before = text[: match.start()].rsplit("\n", 1)[-1]
        bare.append(Link(match.group(0).rstrip(".,;:"), before, bare=True))
    return (*links, *bare)


def _blocks(tokens: Sequence[Token], env: dict, offset: int = 0) -> list[Block]:
    """Leaf blocks of a token stream; ``offset`` lines come before its text."""
    blocks: list[Block] = []
    heading = 0
    list_depth = 0
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "heading_open":
            heading = int(token.tag[1:])
        elif token.type == "heading_close":
            heading = 0
        elif token.type == "inline" and token.map:
            text, outside, links = _inline_parts(token.children or ())
            blocks.append(_block(token.map, offset, heading, list_depth > 0, text, outside, links))
        elif token.type in ("code_block", "fence") and token.map:
            # An indented line is code to CommonMark; on a captured page it is text.
            text = token.content.rstrip("\n")
            blocks.append(_block(token.map, offset, 0, list_depth > 0, text, text, []))
        elif token.type == "html_block" and token.map:
            blocks.extend(_after_html(token, env, offset))
    return blocks


def _after_html(token: Token, env: dict, offset: int) -> list[Block]:
    """An HTML block runs to the next blank line: ``<a id="x"></a>`` glued to a heading
    would swallow the card. The lines after its tags are Markdown again."""
    lines = token.content.split("\n")
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or _is_tag_line(lines[skip])):
        skip += 1
    rest = "\n".join(lines[skip:]).strip("\n")
    if not rest or token.map is None:
        return []
    return _blocks(_parser().parse(rest, env), env, offset + token.map[0] + skip)


def _is_tag_line(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("<") and stripped.endswith(">")


def _block(
    line_map: Sequence[int], offset: int, heading: int, in_list: bool, text: str, outside: str, links: list[Link]
) -> Block:
    first, end = line_map[0] + offset, line_map[1] + offset
    return Block(first + 1, end, heading, in_list, text, outside, _with_bare_urls(text, links))


def _url_only(block: Block) -> str | None:
    """The URL of a block that is nothing but one URL printed as text."""
    if len(block.links) == 1 and block.links[0].bare and block.text.strip() == block.links[0].href:
        return block.links[0].href
    return None


def _pair_url_lines(blocks: list[Block]) -> list[Block]:
    """Notebook exports print a link as its text, then its URL alone on a later line:
    make that one block holding a link, as Markdown would have had it."""
    paired: list[Block] = []
    for block in blocks:
        url = _url_only(block)
        previous = paired[-1] if paired else None
        if (
            url is None
            or previous is None
            or block.heading
            or previous.heading
            or _url_only(previous)
            or any(not link.bare for link in previous.links)  # Markdown, not a notebook export
        ):
            paired.append(block)
            continue
        if previous.paired or any(link.href == url for link in previous.links):
            paired.append(replace(block, text="", outside="", links=(Link(url, ""),)))
            continue
        merged = replace(
            previous,
            end_line=block.end_line,
            outside="",
            links=(*previous.links, Link(url, previous.text.strip())),
            paired=True,
        )
        paired[-1] = merged
    return paired


def _strip_front_matter(text: str) -> str:
    """YAML front matter (``---`` ... ``---``) as blank lines: line numbers stay right."""
    lines = text.split("\n", 200)
    if not lines or lines[0].lstrip("\ufeff").strip() != "---":
        return text
    for index in range(1, min(len(lines), 200)):
        if lines[index].strip() in ("---", "..."):
            return "\n" * index + "\n" + "\n".join(lines[index + 1 :])
    return text


def markdown_blocks(text: str) -> list[Block]:
    """The page as leaf blocks, from one markdown-it parse."""
    env: dict = {}
    return _pair_url_lines(_blocks(_parser().parse(_strip_front_matter(text), env), env))


# --------------------------------------------------------------------------- block roles


def _paper_link(block: Block) -> Link | None:
    for link, href in block.hrefs():
        if paper_id(href):
            return link
    return None


def _card_ids(block: Block) -> set[str]:
    """Papers this block points to: title, thumbnail, upvote and comment links."""
    ids = set()
    for _, href in block.hrefs():
        found = paper_id(href) or upvote_id(href) or community_id(href)
        if found:
            ids.add(found)
    return ids


def _title_link(block: Block) -> Link | None:
    """The link that makes this block a card title: a heading's link to a paper (or a
    reference link whose definition is missing), or a block that is one paper link."""
    if block.heading:
        for link in block.links:
            if not link.bare and (link.href is None or paper_id(link.href)) and _clean(link.text):
                return link
        return None
    link = _paper_link(block)
    if link and not link.bare and _clean(link.text) and _clean(link.text) == block.flat:
        return link
    return None


def _is_submitted_by(block: Block) -> bool:
    return block.flat.lower().startswith(SUBMITTED_BY)


def _is_upvote_text(block: Block) -> bool:
    """``-``, ``117``, ``[-] 1``, ``[Upvote``: an upvote count shown before a card."""
    flat = block.flat.lower()
    rest = flat.replace("[-]", " ").replace("upvote", " ").strip("[]() ")
    if not rest:  # the upvote word or icon alone, not a lone bracket
        return bool(flat.strip("[]() "))
    return NUMBER_ONLY_RE.match(rest) is not None


def _is_field(block: Block) -> bool:
    """A block that shows a card's metadata, not its title or abstract. Metadata is
    short: an abstract that starts with a date or links a repository stays an abstract."""
    flat = block.flat
    if not flat or flat in ("·", "•") or _is_submitted_by(block) or _is_upvote_text(block):
        return True
    short = len(BARE_URL_RE.sub("", flat)) <= MAX_FIELD_CHARS  # "3 authors](https://…)" is short
    if short and (AUTHORS_RE.match(flat.lstrip("-*•[ ")) or DATE_RE.match(flat.lstrip("·• "))):
        return True
    beside_links = len(_clean(block.outside)) <= MAX_FIELD_CHARS
    for link, href in block.hrefs():
        if upvote_id(href) or community_id(href):
            return True
        # A URL printed inside an abstract ("Code: https://github.com/…") is the abstract's.
        if not link.bare and beside_links and (is_github_repo(href) or arxiv_link_id(href) or profile_name(href)):
            return True
    return bool(_url_only(block))


def _is_body_text(block: Block) -> bool:
    return (
        not block.heading
        and any(char.isalnum() for char in block.flat)  # "[", "[- \\": leftovers of a broken link
        and not _is_field(block)
        and not _is_banner(block.flat)
    )


# --------------------------------------------------------------------------- cards


@dataclass
class _Draft:
    """A card while its blocks are read; becomes a Card or a Problem."""

    line_no: int
    raw_title: str
    raw_abstract: str | None
    values: dict[str, object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def set(self, name: str, value: object) -> None:
        if value is not None and self.values.get(name) is None:
            self.values[name] = value

    def unreadable(self, reason: str, block: Block) -> None:
        """A field the card shows but that cannot be read: the card loads without it."""
        self.problems.append(Problem(LEVEL_FIELD, reason, block.line, excerpt(block.text)))


def _anchors(blocks: list[Block]) -> list[int]:
    """Indexes of the blocks that are card titles."""
    titles = [(index, link) for index, block in enumerate(blocks) if (link := _title_link(block))]
    titles = [(index, link) for index, link in titles if not _is_banner(_clean(link.text))]
    # Titles are headings when any is (a trending page shows each card twice, one after
    # the other, each copy its heading); else, as in a notebook export, a line that is
    # one paper link starts a card when it names another paper than the card before.
    anchors = [index for index, _ in titles if blocks[index].heading]
    if not anchors:
        current: str | None = None
        for index, link in titles:
            found = paper_id(link.href) if link.href else None
            if found is None or found != current:
                anchors.append(index)
                current = found
    if not anchors:
        return _crawler_anchors(blocks)
    # A heading at the cards' level that links nowhere is a card that lost its link (or
    # junk to report), not something to skip in silence.
    levels = [blocks[index].heading for index in anchors if blocks[index].heading]
    if levels:
        level = max(set(levels), key=levels.count)
        anchors.extend(
            index
            for index, block in enumerate(blocks)
            if block.heading == level and not _title_link(block) and _plain_heading(block)
        )
    return sorted(set(anchors))


def _plain_heading(block: Block) -> bool:
    """A heading with no Markdown link (a printed URL aside) that is not a banner."""
    return all(link.bare for link in block.links) and not _is_banner(block.flat)


def _crawler_anchors(blocks: list[Block]) -> list[int]:
    """Crawler summaries link no paper: cards are the headings of the level that heads
    abstracts (``### Title``), banners and capture-tool headings excepted, on a page
    where at least half of them show what a card shows (an author count, a GitHub
    repository with its stars): any Markdown document has headings and paragraphs."""
    by_level: dict[int, list[int]] = {}
    for index, block in enumerate(blocks):
        if block.heading >= 2 and _plain_heading(block):
            by_level.setdefault(block.heading, []).append(index)

    def heads_abstracts(indexes: list[int]) -> int:
        return sum(1 for i in indexes if any(_plausible_abstract(b.flat) for b in blocks[i + 1 : i + 3]))

    if not by_level:
        return []
    level = max(by_level, key=lambda lvl: (heads_abstracts(by_level[lvl]), -lvl))
    headings = by_level[level]
    if not heads_abstracts(headings):
        return []
    bounds = [*headings[1:], len(blocks)]
    with_fields = sum(
        1 for start, end in zip(headings, bounds, strict=True) if _shows_card_fields(blocks[start + 1 : end])
    )
    return headings if 2 * with_fields >= len(headings) else []


def _shows_card_fields(blocks: Sequence[Block]) -> bool:
    """An author count line or a GitHub link labelled with its stars."""
    for block in blocks:
        if block.heading:
            return False
        if AUTHOR_LINE_RE.match(block.flat) or any(
            is_github_repo(href) and STARS_RE.search(link.text) for link, href in block.hrefs() if not link.bare
        ):
            return True
    return False


def _prelude_start(blocks: list[Block], previous: int, anchor: int) -> int:
    """Where the blocks shown above card ``anchor`` start (its upvote count, submitter,
    thumbnail), after the card at ``previous``: they belong to the coming card."""
    coming = _anchor_id(blocks, anchor)
    left = _anchor_id(blocks, previous) if previous >= 0 else None
    start = anchor
    for index in range(previous + 1, anchor):
        if _is_submitted_by(blocks[index]):
            start = index
            break
    while start - 1 > previous:
        block = blocks[start - 1]
        ids = _card_ids(block)
        # Points to the coming paper, or to some paper other than the one above (the
        # coming card's title link may be a cut reference): the coming card's.
        if (ids and (coming in ids or left not in ids)) or (not ids and (_is_upvote_text(block) or not block.flat)):
            start -= 1
        else:
            break
    return start


def _anchor_id(blocks: list[Block], anchor: int) -> str | None:
    link = _title_link(blocks[anchor])
    return paper_id(link.href) if link and link.href else None


def _region_end(blocks: list[Block], anchor: int, limit: int) -> int:
    """A heading that is not a card ends the last card's blocks (a page footer)."""
    for index in range(anchor + 1, limit):
        if blocks[index].heading:
            return index
    return limit


@dataclass(frozen=True)
class _Head:
    """A card's title and abstract as read from its blocks."""

    title: str
    abstract: str | None  # None: no abstract before the card's metadata
    after: int  # index of the first block after the abstract
    paper_href: str | None  # the paper URL the abstract links to
    abstract_links: tuple[str, ...]  # URLs of Markdown links inside the abstract


def _title_and_abstract(blocks: list[Block], anchor: int, end: int, crawler: bool) -> _Head:
    title_block = blocks[anchor]
    link = _title_link(title_block)
    title = join_wrapped(link.text if link else title_block.text)
    index = anchor + 1
    if crawler and index + 1 < end:
        # "### A long title" wrapped onto a second line: the next line, with no blank
        # line between, is the title's end when an abstract still follows.
        following = blocks[index]
        if following.line == title_block.end_line + 1 and _is_body_text(following) and _is_body_text(blocks[index + 1]):
            title = f"{title} {join_wrapped(following.text)}"
            index += 1
    parts = []
    href = None
    links: list[str] = []
    while index < end and _is_body_text(blocks[index]):
        body = blocks[index]
        text = body.text
        paper = _paper_link(body)
        if paper and not paper.bare:
            text, href = paper.text, href or paper.href  # the abstract is the text of a link to the paper
        parts.append(join_wrapped(text))
        # "[our repository](https://github.com/…)": the abstract's text keeps only the words.
        links += [url for link, url in body.hrefs() if not link.bare and link is not paper and url not in links]
        index += 1
    abstract = _unbracket(" ".join(part for part in parts if part))
    return _Head(title, abstract or None, index, href, tuple(links))


def _unbracket(text: str) -> str:
    """``[first paragraph … last paragraph](URL)``: a link split by a blank line is no
    link to the parser, and leaves its brackets in the text; drop them."""
    tail = BROKEN_LINK_END_RE.search(text)
    return text[1 : tail.start()].strip() if text.startswith("[") and tail else text


def _read_fields(draft: _Draft, blocks: list[Block], prelude: range, body: range) -> None:
    """Fill the draft from the blocks above its title and below its abstract."""
    after_submitted = False
    for index in (*prelude, *body):
        block = blocks[index]
        flat = block.flat
        if index in prelude and not _card_ids(block) and _is_upvote_text(block):
            # "[3][12]" whose definition was cut: the count still shows, the paper does not.
            shown, value = parse_count(flat)
            if shown:
                draft.set("upvotes", value)
            continue
        if _is_submitted_by(block):
            rest = _clean(flat[len(SUBMITTED_BY) :])
            if rest:
                draft.set("submitted_by", rest)
            else:
                after_submitted = True
            continue
        if after_submitted and flat:
            profile = next((link for link, href in block.hrefs() if profile_name(href)), None)
            draft.set("submitted_by", _clean(profile.text) if profile else flat)
            after_submitted = False
            continue
        _read_links(draft, blocks, index)
        _read_text(draft, block)


def _read_links(draft: _Draft, blocks: list[Block], index: int) -> None:
    """Upvotes, comments, repository, arXiv id and organisation from a block's links."""
    block = blocks[index]
    for link, href in block.hrefs():
        found = paper_id(href)
        if found:
            draft.set("paper_url", href)
            draft.set("arxiv_id", found)
        elif upvote_id(href):
            if draft.values.get("arxiv_id") not in (None, upvote_id(href)):
                continue  # another paper's upvotes
            shown, value = parse_count(link.text)
            if not shown and index > 0:  # "[Upvote" then "117](…)": the count before the URL
                shown, value = parse_count(blocks[index - 1].flat)
            if shown:
                draft.set("upvotes", value)
            else:
                draft.unreadable(f"upvote count {excerpt(_clean(link.text))!r} is not a number", block)
            draft.set("arxiv_id", upvote_id(href))
        elif community_id(href):
            if draft.values.get("arxiv_id") not in (None, community_id(href)):
                continue  # another paper's comments
            shown, value = parse_count(link.text)
            if not shown and index > 0:  # notebook: the count on the line above the URL
                shown, value = parse_count(blocks[index - 1].flat)
            draft.set("comments", value)
        elif is_github_repo(href) and not link.bare:
            draft.set("github_url", href)
            stars = STARS_RE.search(link.text)
            if stars:
                draft.set("github_stars", parse_count(stars.group(1))[1])
            elif _clean(link.text).lower() not in ("github", "link: github", ""):
                draft.unreadable(f"GitHub stars {excerpt(_clean(link.text))!r} are not a number", block)
        elif arxiv_link_id(href):
            known = draft.values.get("arxiv_id")
            if known not in (None, arxiv_link_id(href)):
                draft.unreadable(f"arXiv link {arxiv_link_id(href)} is not the card's paper {known}", block)
            draft.set("arxiv_id", arxiv_link_id(href))
        elif profile_name(href) and _clean(link.text):
            draft.set("organization", _clean(link.text))


def _read_text(draft: _Draft, block: Block) -> None:
    """The author count and the date (with a comment count glued to it) from a block's text."""
    authors = AUTHORS_RE.search(block.flat)
    if authors:
        draft.set("raw_authors", authors.group(0))
        draft.set("author_count", int(authors.group(1).replace(",", "")))
        draft.set("authors_line_no", block.line)
    outside = _clean(block.outside)
    date = DATE_RE.search(outside)
    if date and draft.values.get("raw_published") is None:
        draft.set("raw_published", " ".join(date.group(0).split()))
        draft.set("published_line_no", block.line)
        # The comment count glued to the date: "May 29[6](…#community)", "Mar 8, 2024 [ 6][39]".
        for link in block.links:
            if not link.bare and (link.href is None or community_id(link.href)):
                shown, value = parse_count(link.text)
                if shown:
                    draft.set("comments", value)
        tail = outside[date.end() :].strip(" []")
        if tail.isdigit():
            draft.set("comments", int(tail))


def _junk_reason(title: str, abstract: str | None) -> str | None:
    """Why this is no paper card, or None when it is one."""
    flat = " ".join(title.split())
    if not flat:
        return "card title is empty"
    if BARE_URL_RE.match(flat) or flat.lower().startswith("www."):
        return "card title is a URL"
    if NUMBER_ONLY_RE.match(flat):
        return "card title is a number"
    if "](" in flat or flat.startswith(("[", "![")) or flat.endswith("]"):
        return "card title is Markdown link syntax"
    if AUTHOR_LINE_RE.match(flat):
        return "card title is an author line"
    if DATE_ONLY_RE.match(flat):
        return "card title is a date"
    if len(flat) > MAX_TITLE_CHARS:
        return f"card title is longer than any title ({len(flat)} characters)"
    if abstract is None:
        return "card title without abstract"
    if BARE_URL_RE.fullmatch(abstract.strip()):
        return "card abstract is a URL"
    if not _plausible_abstract(abstract):
        return "card abstract is implausibly short"
    return None


def _plausible_abstract(text: str) -> bool:
    return len(text) >= MIN_ABSTRACT_CHARS and len(text.split()) >= MIN_ABSTRACT_WORDS


CARD_FIELDS = frozenset(f.name for f in fields(Card))


def _card(draft: _Draft, position: int) -> Card:
    values = {name: value for name, value in draft.values.items() if name in CARD_FIELDS}
    return Card(position, draft.line_no, draft.raw_title, draft.raw_abstract or "", **values)


def _merge(first: Card, second: Card) -> Card:
    """One card seen twice: the first copy, with what only the second shows."""
    filled = {
        name: getattr(second, name)
        for name in CARD_FIELDS
        if getattr(first, name) is None and getattr(second, name) is not None
    }
    return replace(first, **filled) if filled else first


def parse_cards(text: str) -> CardPage:
    """The paper cards of a Markdown capture, duplicates merged, junk as problems."""
    blocks = markdown_blocks(text)
    anchors = _anchors(blocks)
    starts = [_prelude_start(blocks, anchors[k - 1] if k else -1, anchor) for k, anchor in enumerate(anchors)]
    problems: list[Problem] = []
    cards: list[Card] = []
    by_id: dict[str, int] = {}
    for k, anchor in enumerate(anchors):
        limit = starts[k + 1] if k + 1 < len(anchors) else len(blocks)
        end = _region_end(blocks, anchor, limit)
        link = _title_link(blocks[anchor])
        head = _title_and_abstract(blocks, anchor, end, crawler=link is None)
        line_no = blocks[anchor].line
        reason = _junk_reason(head.title, head.abstract)
        if reason:
            problems.append(Problem(LEVEL_RECORD, reason, line_no, excerpt(blocks[anchor].text)))
            continue
        draft = _Draft(line_no, head.title, head.abstract)
        draft.set("abstract_links", head.abstract_links or None)
        for href in (link.href if link else None, head.paper_href):
            if href:
                draft.set("paper_url", href)
                draft.set("arxiv_id", paper_id(href))
        _read_fields(draft, blocks, range(starts[k], anchor), range(head.after, end))
        card = _card(draft, len(cards) + 1)
        problems.extend(problem for problem in draft.problems if problem not in problems)
        if card.arxiv_id and card.arxiv_id in by_id:
            where = by_id[card.arxiv_id]
            cards[where] = _merge(cards[where], card)
            continue
        if card.arxiv_id:
            by_id[card.arxiv_id] = len(cards)
        cards.append(card)
    return CardPage(tuple(cards), tuple(sorted(problems, key=lambda problem: problem.line_no or 0)))


# --------------------------------------------------------------------------- detection


def detect_markdown(text_head: str) -> float:
    """How sure (0..1) it is that ``text_head`` starts a Markdown capture of a Hugging
    Face papers page. Reads the first DETECT_LINES lines only."""
    head = "\n".join(text_head.split("\n", DETECT_LINES)[:DETECT_LINES])
    env: dict = {}
    raw = _blocks(_parser().parse(_strip_front_matter(head), env), env)
    markdown_links = [href for block in raw for link, href in block.hrefs() if not link.bare]
    paper_links = sum(1 for href in markdown_links if paper_id(href))
    url_lines = [url for block in raw if (url := _url_only(block))]
    paper_url_lines = sum(1 for url in url_lines if paper_id(url))
    linked_headings = sum(1 for block in raw if block.heading and _title_link(block))
    markdown_banner = any(
        (block.heading and _is_banner(block.flat))
        or any(_clean(link.text).lower() == "subscribe" for link in block.links if not link.bare)
        for block in raw
    )
    score = 0.0
    if paper_links:
        score += 0.5 + (0.2 if paper_links >= 3 else 0.0)
    if linked_headings:
        score += 0.2
    if paper_url_lines >= 2 and len(url_lines) >= 4:
        score += 0.8  # a notebook export: text lines, each followed by its URL line
    if not paper_links and not paper_url_lines and _crawler_anchors(raw):
        score += 0.7  # headings over abstracts, and author counts or starred repositories
    if markdown_banner and score:
        score += 0.2
    return round(min(score, 1.0), 2)
