"""Links inside an abstract: find them in the raw text, classify them, and reduce
GitHub repository links to a lowercase ``owner/name``.

Runs on the raw abstract (before any text clean-up) so that nothing the clean-up
does can damage a URL. No link is invented: only explicit URLs (with a scheme,
``www.``, or a bare ``github.com/…`` / ``….github.io``) count.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from .records import FOUND_IN_BOTH, LINK_GIST, LINK_GITHUB_PAGES, LINK_GITHUB_REPO, LINK_OTHER, Link

# A URL ends at white space, at braces (capture artefacts such as "{here}" and
# "URL{URL}" follow URLs directly), at characters that cannot stand in one, and at
# any non-ASCII character (a full-width "。", a zero-width space, a CJK bracket).
_URL_BODY = r"[!#-;=?-\[\]_a-z~]*"
URL_RE = re.compile(
    r"(?:https?://|(?<![\w@./-])www\.|(?<![\w@./-])(?:github\.com/|[a-z0-9-]+\.github\.io\b))" + _URL_BODY,
    re.IGNORECASE,
)
# Every URL_RE match holds one of these: text without them (most abstracts) skips the slow scan.
LINK_HINTS = ("://", "www.", "github.com", "github.io")
TRAILING_PUNCTUATION = ".,;:!?)]}>'\"*"
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
    if not may_hold_links(raw_text):
        return ()
    links: dict[str, Link] = {}
    for match in URL_RE.finditer(LATEX_ESCAPE_RE.sub(r"\1", raw_text)):
        url = strip_trailing_punctuation(match.group(0))
        url = strip_trailing_punctuation(GLUED_SENTENCE_RE.sub("", url)) if "/" in _path_part(url) else url
        if not _has_host(url):
            continue
        link = classify(url)
        links.setdefault(link.identity, link)
    return tuple(links.values())


def may_hold_links(text: str) -> bool:
    """A cheap test that rules out text with no URL at all."""
    lowered = text.lower()
    return any(hint in lowered for hint in LINK_HINTS)


def _path_part(url: str) -> str:
    return url.split("://", 1)[-1].partition("/")[2]


def strip_trailing_punctuation(url: str) -> str:
    """Drop sentence punctuation after a URL; keep a ')' that closes a '(' inside it."""
    while url and url[-1] in TRAILING_PUNCTUATION:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
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


def links_from_urls(urls: Iterable[str]) -> tuple[Link, ...]:
    """Links from URLs given one by one (a card's GitHub link, the targets of Markdown links
    inside an abstract), normalised and classified as links found in text are."""
    return extract_links(" ".join(urls))


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
