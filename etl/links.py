"""Links inside an abstract: find them in the raw text, classify them, and reduce
GitHub repository links to a lowercase ``owner/name``.

Runs on the raw abstract (before any text clean-up) so that nothing the clean-up
does can damage a URL. No link is invented: only explicit URLs (with a scheme,
``www.``, or a bare ``github.com/…`` / ``….github.io``) count.

Where a URL ends, in text that may be Markdown:

- at white space, at ``<``, ``>``, ``{``, ``}``, ``"``, a backtick, a backslash and
  any non-ASCII character (characters a URL in an abstract never holds);
- at ``)`` and ``]`` unless they close a ``(`` / ``[`` opened inside the URL, and at an
  unbalanced ``(`` / ``[``: so ``[code](URL)``, ``(see URL)``, ``[URL]`` and
  ``URL](URL)`` end where the Markdown starts, while ``…/wiki/Ring_(mathematics)``
  keeps its parentheses (one level of nesting, as in a Markdown link destination);
- square brackets are kept only in the query and fragment (``?ids[0]=1``): in a host
  or path they are always Markdown or a citation glued on (``…/tool[12]``);
- at ``](`` always, even after balanced brackets: that is a Markdown link's text ending;
- then sentence punctuation at its end is dropped (``strip_trailing_punctuation``).

Spaced URLs, as some arXiv abstracts print them, are read closed up: one white space
character after the scheme's colon (``https: //host/…``, ``http: //``) or after
the dot of ``github. com/``. These spellings never occur in prose, so reading them
adds no false link; wider breaks (``https:// host``) are not read.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import replace
from urllib.parse import urlsplit

from .records import FOUND_IN_BOTH, LINK_GIST, LINK_GITHUB_PAGES, LINK_GITHUB_REPO, LINK_OTHER, Link

# Characters of a URL's host and path: printable ASCII but white space, quotes,
# brackets, braces (capture artefacts such as "{here}" and "URL{URL}" follow URLs
# directly), "<>", "\\", "^", "`", "|", and "?" / "#" which start the query.
_PATH_CHAR = r"[!$-'*-;=@-Z_a-z~]"
# Characters of the query and fragment: those of the path plus "?" and "#".
_QUERY_CHAR = r"[!#-'*-;=?-Z_a-z~]"
# Parentheses are kept when balanced inside the URL; brackets too, in the query only,
# and never a "[…]" followed by "(" (a Markdown link's text).
_PATH = rf"{_PATH_CHAR}*(?:\({_PATH_CHAR}*\){_PATH_CHAR}*)*"
_QUERY_GROUP = rf"\({_QUERY_CHAR}*\)|\[{_QUERY_CHAR}*\](?!\()"
_QUERY = rf"(?:[?#]{_QUERY_CHAR}*(?:(?:{_QUERY_GROUP}){_QUERY_CHAR}*)*)?"
_URL_BODY = _PATH + _QUERY
# "github.com/" and its spaced spelling "github. com/" (one white space after the dot).
_GITHUB_COM = r"github\.\s?com/"
# Scheme-less URLs start a word: not after a letter, digit, "@", ".", "/" or "-". Each
# alternative but the last starts with a letter and checks the character before it
# after that letter ("w(?<!…w)"): a pattern whose every alternative starts with a
# literal is scanned several times faster by re than one starting with a lookbehind.
_SCHEME = rf"https?:\s?//(?:(?:www\.)?{_GITHUB_COM})?"
_WWW = rf"w(?<![\w@./-]w)ww\.(?:{_GITHUB_COM})?"
_BARE_GITHUB = r"g(?<![\w@./-]g)ithub\.\s?com/"
_BARE_GITHUB_PAGES = r"(?<![\w@./-])[a-z0-9-]+\.github\.io\b"
# ASCII: "i" must not match "ı" or "İ", nor "s" "ſ", which str.lower() keeps apart (see LINK_HINTS).
_FLAGS = re.IGNORECASE | re.ASCII
URL_RE = re.compile(rf"(?:{_SCHEME}|{_WWW}|{_BARE_GITHUB}|{_BARE_GITHUB_PAGES}){_URL_BODY}", _FLAGS)
# URL_RE for text without "github.io", where its last alternative cannot match: the
# same matches, found several times faster (no alternative starts with a character class).
_URL_RE_BUT_BARE_PAGES = re.compile(rf"(?:{_SCHEME}|{_WWW}|{_BARE_GITHUB}){_URL_BODY}", _FLAGS)
TRAILING_PUNCTUATION = ".,;:!?)]}>'\"*"
# A closing bracket kept at a URL's end when it closes an opening one inside it.
_CLOSES = {")": "(", "]": "["}
# "…/owner/name.Next sentence": a capitalised word glued after the full stop that ends a URL.
GLUED_SENTENCE_RE = re.compile(r"(?<=[^/.])\.[A-Z][a-z]+$")
# LaTeX escapes inside URLs ("my\_repo") stand for the plain character.
LATEX_ESCAPE_RE = re.compile(r"\\([_%#&~])")
GIST_HOST = "gist.github.com"

GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
RAW_GITHUB_HOST = "raw.githubusercontent.com"
GITHUB_PAGES_SUFFIX = ".github.io"
# First path segments of github.com that are site pages, not an owner.
GITHUB_RESERVED_OWNERS = frozenset(
    {
        "about", "account", "apps", "blog", "codespaces", "collections", "contact", "customer-stories",
        "dashboard", "enterprise", "events", "explore", "features", "issues", "join", "login", "logout",
        "marketplace", "new", "notifications", "orgs", "organizations", "pricing", "pulls", "readme",
        "search", "security", "settings", "signup", "site", "sponsors", "topics", "trending", "users",
    }
)  # fmt: skip
OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
REPO_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def extract_links(raw_text: str) -> tuple[Link, ...]:
    """All distinct links in ``raw_text``, in order of first appearance.

    Two URLs of one GitHub repository (".../a/b" and ".../a/b/tree/main") are one link.
    """
    lowered = raw_text.lower()
    if not _holds_hints(lowered):
        return ()
    text = _unescaped(raw_text)
    return unique_links(_link(match.group(0)) for match in _url_matches(text, lowered))


# Where a match of URL_RE but its bare-pages alternative can start: every other alternative
# starts with one of these (lower-cased; re.ASCII, so only ASCII letters fold).
_URL_STARTS = ("http", "www.", "github.")


def _url_matches(text: str, lowered: str) -> Iterator[re.Match[str]]:
    """``_url_re(lowered).finditer(text)``, found faster where it can be: in ASCII text without
    "github.io", a match starts only where one of _URL_STARTS does, so the pattern is tried at
    those places (in order, none inside a match already found) instead of at every character."""
    if "github.io" in lowered or not text.isascii():
        yield from _url_re(lowered).finditer(text)
        return
    lowered = text.lower() if len(text) != len(lowered) else lowered  # unescaped: shorter
    starts = set()
    for start in _URL_STARTS:
        found = lowered.find(start)
        while found >= 0:
            starts.add(found)
            found = lowered.find(start, found + 1)
    end = 0
    for position in sorted(starts):
        if position >= end:
            match = _URL_RE_BUT_BARE_PAGES.match(text, position)
            if match:
                end = match.end()
                yield match


def unique_links(links: Iterable[Link | None]) -> tuple[Link, ...]:
    """``links`` without repeats (``Link.identity``: one GitHub repository is one link
    whatever its URL), the first spelling of each kept, in order; None skipped."""
    unique: dict[str, Link] = {}
    for link in links:
        if link is not None:
            unique.setdefault(link.identity, link)
    return tuple(unique.values())


def _link(found: str) -> Link | None:
    """The link of one URL_RE match: closed up, trimmed, classified; None without a host."""
    url = strip_trailing_punctuation("".join(found.split()))  # "https: //x" -> "https://x"
    if "/" in _path_part(url):
        url = strip_trailing_punctuation(GLUED_SENTENCE_RE.sub("", url))
    return classify(url) if _has_host(url) else None


def may_hold_links(text: str) -> bool:
    """A cheap test that rules out text with no URL at all (it holds none of LINK_HINTS)."""
    return _holds_hints(text.lower())


def _holds_hints(lowered: str) -> bool:
    # On the hot path of every record: three "in" tests beat any() over LINK_HINTS and a regex.
    return "//" in lowered or "www." in lowered or "github." in lowered


def _url_re(lowered: str) -> re.Pattern[str]:
    return URL_RE if "github.io" in lowered else _URL_RE_BUT_BARE_PAGES


def _unescaped(text: str) -> str:
    return LATEX_ESCAPE_RE.sub(r"\1", text) if "\\" in text else text


def _path_part(url: str) -> str:
    return url.split("://", 1)[-1].partition("/")[2]


def strip_trailing_punctuation(url: str) -> str:
    """Drop sentence punctuation after a URL; keep a ')' or ']' that closes a '(' or '[' inside it."""
    while url and url[-1] in TRAILING_PUNCTUATION:
        opening = _CLOSES.get(url[-1])
        if opening and url.count(opening) >= url.count(url[-1]):
            break
        url = url[:-1]
    return url


def _split(url: str):
    return urlsplit(url if "://" in url else "https://" + url)


def _has_host(url: str) -> bool:
    try:
        host = _split(url).hostname or ""
    except ValueError:
        return False
    return "." in host.strip(".")


def normalise_url(url: str) -> str:
    """One spelling per URL: https, lowercase host, no trailing "/"; query and fragment kept."""
    parts = _split(url)
    normal = f"https://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    if parts.query:
        normal += f"?{parts.query}"
    if parts.fragment:
        normal += f"#{parts.fragment}"
    return normal


def classify(url: str) -> Link:
    """Kind of a URL (normalised) and, for a GitHub repository, its lowercase ``owner/name``."""
    try:
        parts = _split(url)
        host = (parts.hostname or "").lower()
        url = normalise_url(url)
    except ValueError:
        return Link(url, LINK_OTHER)
    segments = [s for s in parts.path.split("/") if s]
    if host in GITHUB_HOSTS or host == RAW_GITHUB_HOST:
        repo = github_repo(segments)
        if repo:
            return Link(url, LINK_GITHUB_REPO, repo)
    elif host == GIST_HOST:
        return Link(url, LINK_GIST)
    elif host.endswith(GITHUB_PAGES_SUFFIX) and host != GITHUB_PAGES_SUFFIX[1:]:
        return Link(url, LINK_GITHUB_PAGES)
    return Link(url, LINK_OTHER)


def github_repo(segments: list[str]) -> str | None:
    """``owner/name`` (lowercase) from github.com path segments, or None for site pages."""
    if len(segments) < 2:
        return None
    owner, name = segments[0], segments[1]
    if owner.lower() in GITHUB_RESERVED_OWNERS or not OWNER_RE.match(owner):
        return None
    name = name.removesuffix(".git")
    if not REPO_NAME_RE.match(name) or name in {".", ".."}:
        return None
    return f"{owner}/{name}".lower()


def links_from_urls(urls: Iterable[str | None]) -> tuple[Link, ...]:
    """Links from URLs given one by one (a Markdown link's destination, a card's GitHub
    link), normalised and classified as ``extract_links`` does; repeats dropped.

    Each URL is read as a URL in text is (from its start, ending where a URL in text
    would end), so a URL gives the same link here and in an abstract. A URL that is
    none of those ``extract_links`` finds (relative, ``mailto:``, ``ftp:``) and None
    give nothing.
    """
    found = (URL_RE.match(_unescaped(url.strip().removeprefix("<"))) for url in urls if url)
    return unique_links(_link(match.group(0)) for match in found if match)


def union_links(links: Iterable[Link]) -> tuple[Link, ...]:
    """One link per repository or URL (the smallest URL represents it), sorted. A link found
    both in an abstract and as a card's own link is found in ``both``."""
    chosen: dict[Hashable, Link] = {}
    for link in links:
        kept = chosen.get(link.identity)
        if kept is None:
            chosen[link.identity] = link
            continue
        found_in = kept.found_in if kept.found_in == link.found_in else FOUND_IN_BOTH
        chosen[link.identity] = replace(min(kept, link, key=lambda one: one.url), found_in=found_in)
    return tuple(sorted(chosen.values(), key=lambda link: (link.kind, link.identity)))
