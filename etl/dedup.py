"""Deduplication: which sightings are one paper, and what that paper's row holds.

Pure functions over ``Paper`` values; ``load`` and ``rebuild`` feed them.

*Same paper.* Two sightings are one paper when their ``title_key`` is equal and
their abstracts agree (one is empty, they are equal, one is a truncation of the
other, or they are at least ``ABSTRACT_SIMILARITY`` % alike), or when their
abstracts are the same (and long enough to mean it) and their titles are alike
(at least ``TITLE_SIMILARITY`` % by rapidfuzz's token-set ratio) without
differing in a number ("Part I" / "Part II", "GPT-3" / "GPT-4").

*Blocking.* Candidates are only compared within a block: sightings sharing a
``title_key`` or an ``abstract_key``, so the work grows with the data, never with
all pairs. Sightings with the same pair of keys are compared once.

*Clusters.* A paper is a connected component of that relation. Components do not
depend on the order sightings arrive in, which is what makes loads order- and
split-independent.

*Merge rule* (documented in docs/schema.md): title and abstract come from the
earliest sighting (earliest listing date, then the file's sha256, then the
position on the page); the fields of ``MERGE_RULES`` (publication date, author
count) are the value most sightings give (ties: the earliest date, the largest
count); the arXiv id is the cluster's one id; links are the union, one per
repository or URL (the smallest URL as the representative). Sightings that give
another value of a voted field than the one kept are reported as disagreements.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from .links import union_links
from .records import Paper
from .transform import folded_text

ABSTRACT_SIMILARITY = 80  # rapidfuzz ratio (0-100) above which two abstracts are one text, revised
TITLE_SIMILARITY = 60  # token-set ratio above which two titles over the same abstract are one paper
MIN_ABSTRACT_WORDS = 12  # a shorter abstract is too generic to identify a paper on its own
MIN_TRUNCATION_WORDS = 20  # a cut-off abstract must keep this many words to count as a truncation
_ROMAN = frozenset(["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"])
_HAS_DIGIT_RE = re.compile(r"\d")
# MIN_ABSTRACT_WORDS white-space separated words, found without splitting the whole abstract.
_ENOUGH_WORDS_RE = re.compile(rf"\s*\S+(?:\s+\S+){{{MIN_ABSTRACT_WORDS - 1}}}")


def same_paper(a: Paper, b: Paper) -> bool:
    """Whether two sightings are the same paper (symmetric). Two arXiv ids decide alone:
    the same id is one paper whatever the titles say, two ids are two papers."""
    if a.arxiv_id and b.arxiv_id:
        return a.arxiv_id == b.arxiv_id
    if a.title_key == b.title_key:
        return _abstracts_agree(a, b)
    if a.abstract_key and a.abstract_key == b.abstract_key and _identifies(a.abstract) and _identifies(b.abstract):
        return _titles_agree(folded_title(a), folded_title(b))
    return False


def folded_title(paper: Paper) -> str:
    """The title's words for fuzzy comparison (computed by the transform when it could)."""
    return paper.folded_title or folded_text(paper.title)


def blocking_keys(paper: Paper) -> list[str]:
    """Keys under which a sighting's candidates are searched (see ``same_paper``)."""
    keys = [f"t:{paper.title_key}"]
    if paper.abstract_key and _identifies(paper.abstract):
        keys.append(f"a:{paper.abstract_key}")
    if paper.arxiv_id:
        keys.append(f"x:{paper.arxiv_id}")
    return keys


def _identifies(abstract: str) -> bool:
    return _ENOUGH_WORDS_RE.match(abstract) is not None


def _abstracts_agree(a: Paper, b: Paper) -> bool:
    if not a.abstract_key or not b.abstract_key or a.abstract_key == b.abstract_key:
        return True
    first, second = folded_text(a.abstract), folded_text(b.abstract)
    shorter, longer = sorted((first, second), key=len)
    words = shorter.split()
    if len(words) >= MIN_TRUNCATION_WORDS and longer.startswith(" ".join(words[:-1])):
        return True  # one capture cut the abstract off (possibly mid-word)
    return fuzz.ratio(first, second) >= ABSTRACT_SIMILARITY


def _titles_agree(first: str, second: str) -> bool:
    """Whether two folded titles are alike enough (over the same abstract) to be one paper."""
    if _distinguishing_tokens(first) != _distinguishing_tokens(second):
        return False
    return fuzz.token_set_ratio(first, second) >= TITLE_SIMILARITY


def _distinguishing_tokens(folded_title: str) -> set[str]:
    """Numbers and roman numerals: "Part I" / "Part II", "GPT-3" / "GPT-4" are different papers."""
    return {token for token in folded_title.split() if _HAS_DIGIT_RE.search(token) or token in _ROMAN}


# --------------------------------------------------------------------------- clusters


def components(papers: Sequence[Paper], joined: Iterable[tuple[int, int]] = (), settled: int = 0) -> list[int]:
    """The cluster of each paper, as the smallest index in it.

    ``joined`` lists pairs of indices already known to be one paper (sightings
    stored under one paper_id). The first ``settled`` papers were compared with
    each other when they were loaded, so their pairs are not compared again.
    Everything else is decided by ``same_paper`` within blocks.

    arXiv ids: sightings with one id are one paper; a cluster never holds two ids,
    so a sighting without an id that matches papers with different ids joins only
    one of them: the first in a fixed order of the pairs (by their keys, not by the
    order the sightings came in), so that the result does not depend on file order.
    """
    clusters = _UnionFind([paper.arxiv_id for paper in papers])
    by_id: dict[str, list[int]] = defaultdict(list)
    for index, paper in enumerate(papers):
        if paper.arxiv_id:
            by_id[paper.arxiv_id].append(index)
    for indices in by_id.values():
        for other in indices[1:]:
            clusters.union(indices[0], other)
    for first, second in joined:
        clusters.union(first, second)
    # Equal keys and equal title words (which same_paper compares): one paper, compared once.
    by_signature: dict[tuple, list[int]] = defaultdict(list)
    for index, paper in enumerate(papers):
        by_signature[_signature(paper)].append(index)
    for indices in by_signature.values():
        for other in indices[1:]:
            clusters.union(indices[0], other)
    blocks: dict[str, list[int]] = defaultdict(list)
    for signature in sorted(by_signature):  # a fixed order of the pairs: see the docstring
        first_index = by_signature[signature][0]
        for key in blocking_keys(papers[first_index]):
            blocks[key].append(first_index)
    for key in sorted(blocks):
        representatives = blocks[key]
        for position, first in enumerate(representatives):
            for second in representatives[position + 1 :]:
                if first < settled and second < settled:
                    continue  # both stored: decided when the later one was loaded
                if clusters.find(first) != clusters.find(second) and same_paper(papers[first], papers[second]):
                    clusters.union(first, second)
    return [clusters.find(index) for index in range(len(papers))]


def _signature(paper: Paper) -> tuple:
    return (paper.title_key, paper.abstract_key, folded_title(paper), paper.arxiv_id or "")


class _UnionFind:
    """Union-find whose clusters hold at most one arXiv id: a union that would join two ids is refused."""

    def __init__(self, ids: Sequence[str | None]) -> None:
        self.parent = list(range(len(ids)))
        self.ids = list(ids)  # the cluster's arXiv id, kept at its root

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, first: int, second: int) -> bool:
        low, high = sorted((self.find(first), self.find(second)))
        if low == high:
            return True
        if self.ids[low] and self.ids[high] and self.ids[low] != self.ids[high]:
            return False  # two arXiv ids are two papers
        self.parent[high] = low  # the smallest index is the root: labels do not depend on union order
        self.ids[low] = self.ids[low] or self.ids[high]
        return True


# --------------------------------------------------------------------------- merge


@dataclass(frozen=True)
class Member:
    """One sighting of a paper, with what orders it and locates it."""

    paper: Paper
    rank: tuple  # earliest first; see sighting_rank
    path: str = ""
    line_no: int | None = None


def sighting_rank(listed_on: dt.date | None, sha256: str, position: int) -> tuple:
    """Earliest listing date first (unknown dates last), then file sha256, then place on the page."""
    return (listed_on is None, listed_on or dt.date.min, sha256, position)


@dataclass(frozen=True)
class Disagreement:
    """A sighting whose value of a field differs from another sighting's of the same paper."""

    member: Member
    field: str  # "published_on" | "author_count"
    value: object
    others: tuple  # the other values given for the field
    kept: object
    named: bool = False  # author_count kept from the authors a capture names, not by vote


@dataclass(frozen=True)
class MergeRule:
    """How a cluster's sightings give one value of a field, and how a disagreement is worded."""

    label: str  # "publication date"
    prefer: Callable  # breaks a tie between the values most sightings give
    tie_rule: str  # "the earliest": how that tie-break reads in a reject


# The fields voted on across sightings (the rest come from the earliest sighting, or are a union).
MERGE_RULES: dict[str, MergeRule] = {
    "published_on": MergeRule("publication date", min, "the earliest"),
    "author_count": MergeRule("author count", max, "the largest"),
}


def merge(members: Sequence[Member]) -> tuple[Paper, list[Disagreement]]:
    """The paper row for a cluster, and the sightings that disagree with it."""
    if len(members) == 1:  # most clusters: nothing to vote on, nobody to disagree with
        return _alone(members[0].paper), []
    by_rank = sorted(members, key=lambda m: m.rank)
    first = by_rank[0].paper
    voted = {name: _vote([getattr(m.paper, name) for m in members], rule.prefer) for name, rule in MERGE_RULES.items()}
    # Authors' names, where a capture gives them, come from the earliest sighting that has them, and so does
    # the author count (other sightings' counts that differ are disagreements).
    author_names = next((m.paper.author_names for m in by_rank if m.paper.author_names), ())
    if author_names:
        voted["author_count"] = len(author_names)
    paper = Paper(
        title=first.title,
        title_key=first.title_key,
        abstract=first.abstract,
        links=union_links(link for m in members for link in m.paper.links),
        abstract_key=first.abstract_key,
        arxiv_id=next((m.paper.arxiv_id for m in members if m.paper.arxiv_id), None),
        author_names=author_names,
        **voted,
    )
    disagreements = [found for name, kept in voted.items() for found in _disagreements(members, name, kept)]
    if author_names:
        disagreements = [replace(d, named=d.field == "author_count") for d in disagreements]
    return paper, disagreements


def _alone(paper: Paper) -> Paper:
    """The paper of a cluster of one sighting: the sighting's own, with what merge makes of any
    cluster (links as a union; the author count of the names given, where they are)."""
    links = union_links(paper.links)
    author_count = len(paper.author_names) if paper.author_names else paper.author_count
    arxiv_id = paper.arxiv_id or None
    if links == paper.links and author_count == paper.author_count and arxiv_id == paper.arxiv_id:
        return paper
    return replace(paper, links=links, author_count=author_count, arxiv_id=arxiv_id)


def _disagreements(members: Sequence[Member], field: str, kept: object) -> list[Disagreement]:
    given = {getattr(m.paper, field) for m in members} - {None}
    if len(given) < 2:
        return []
    found = []
    for member in members:
        value = getattr(member.paper, field)
        if value is not None:
            found.append(Disagreement(member, field, value, tuple(sorted(given - {value})), kept))
    return found


def _vote(values: list, prefer: Callable) -> object:
    """The most frequent non-NULL value; ``prefer`` breaks ties."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    top = max(counts.values())
    return prefer(v for v, n in counts.items() if n == top)
