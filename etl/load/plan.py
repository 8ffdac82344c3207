"""Plan papers from sightings: which paper each sighting belongs to, and what that changes.

One pure function, ``plan_papers``, used by the load (a batch of new sightings
with the stored sightings they may be) and by ``rebuild`` (every stored
sighting): it clusters, merges each cluster into its paper, chooses each
cluster's paper_id, and says which papers are inserted, updated or deleted and
which stored sightings move to another paper. Nothing here touches the database.

*Incremental and from scratch.* Without arXiv ids, clusters only ever grow as
sightings arrive (a cluster is a connected component), so the load compares new
sightings with stored ones and keeps stored papers as they are ("settled"). With
two different ids among sightings that share blocking keys, which id an id-less
sighting joins depends on all of them (see ``etl.dedup.components``): there the
load passes the stored papers as ``fresh``, with every sighting that shares a
blocking key with them (``etl.load.region``), and they are clustered again from
scratch, exactly as a load of every file at once would cluster them. A stored
sighting may then move to another paper, and a paper left without sightings is
deleted.

*paper_id.* A cluster with an arXiv id keeps the paper that has that id. The
others, earliest sighting first, keep the smallest paper_id among their stored
sightings' that no other cluster kept and that has no other id; else a paper
that ``--force`` detached from one of their places; else they are new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..dedup import Disagreement, Member, components, merge
from ..records import Paper
from .rows import link_values, paper_values


@dataclass(frozen=True)
class StoredSighting:
    """A listing already in the database, as the current rules read it."""

    member: Member
    paper_id: int
    place: tuple[int, int]  # (source_file_id, position): the listing's key
    keys: tuple[str, str]  # (title_key, abstract_key) as stored


@dataclass(frozen=True)
class StoredPaper:
    """A papers row as stored, with its links and authors: what a plan compares with."""

    values: dict  # PAPER_COLUMNS -> value
    links: frozenset  # link_values of each link
    authors: tuple  # (name, hf_user) in order

    def differences(self, paper: Paper) -> tuple[bool, bool, bool]:
        """Whether the row, the links and the authors differ from ``paper``'s."""
        return (
            self.values != paper_values(paper),
            self.links != frozenset(link_values(link) for link in paper.links),
            self.authors != tuple(paper.author_names),
        )


@dataclass(frozen=True)
class NewSighting:
    member: Member
    previous_paper_id: int | None = None  # --force: the paper this place on the page had before


@dataclass(frozen=True)
class PlannedPaper:
    """A cluster's paper: kept (paper_id) or new (None), and what is written."""

    paper: Paper
    paper_id: int | None
    row_changed: bool = True
    links_changed: bool = True
    authors_changed: bool = True
    gained: bool = False  # sightings of another stored paper join it

    @property
    def updated(self) -> bool:
        """A stored paper that changes (for the run's papers_updated)."""
        changed = self.row_changed or self.links_changed or self.authors_changed or self.gained
        return self.paper_id is not None and changed


@dataclass(frozen=True)
class PaperPlan:
    papers: tuple[PlannedPaper, ...]  # every cluster holding a new sighting or a fresh stored one
    new_sightings: tuple[int, ...]  # each new sighting's paper, an index into ``papers``
    moved: tuple[tuple[StoredSighting, int], ...]  # stored sightings to another paper, or with other keys
    deleted: tuple[int, ...]  # stored papers no cluster keeps
    disagreements: tuple[Disagreement, ...]  # between sightings of one planned paper

    @property
    def inserted(self) -> int:
        return sum(p.paper_id is None for p in self.papers)

    @property
    def updated(self) -> int:
        return sum(p.updated for p in self.papers)


def plan_papers(
    new: Sequence[NewSighting],
    stored: Sequence[StoredSighting],
    stored_papers: dict[int, StoredPaper],
    fresh: Collection[int] = (),
) -> PaperPlan:
    """Cluster ``new`` with ``stored`` and plan the papers.

    ``stored`` holds every sighting of each stored paper it mentions; the
    papers in ``fresh`` are clustered again from scratch (the others stay as
    stored and only grow). ``stored_papers`` holds the rows of the papers of
    ``stored`` and of the papers the new sightings had before a ``--force``.
    """
    settled = [s for s in stored if s.paper_id not in fresh]
    unsettled = [s for s in stored if s.paper_id in fresh]
    members = [s.member for s in settled] + [s.member for s in unsettled] + [n.member for n in new]
    labels = components([m.paper for m in members], _joined(settled), settled=len(settled))
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        clusters[label].append(index)
    first_planned = len(settled)  # members from here on are new or fresh: their clusters are planned
    planned_labels = sorted(
        {labels[i] for i in range(first_planned, len(members))},
        key=lambda label: min(members[i].rank for i in clusters[label]),
    )
    stored_in_order = settled + unsettled
    merged = [merge([members[i] for i in clusters[label]]) for label in planned_labels]
    own = [[stored_in_order[i] for i in clusters[label] if i < len(stored_in_order)] for label in planned_labels]
    previous = [
        [new[i - len(stored_in_order)].previous_paper_id for i in clusters[label] if i >= len(stored_in_order)]
        for label in planned_labels
    ]
    paper_ids = _choose_paper_ids([paper for paper, _ in merged], own, previous, stored_papers)
    papers = [
        _planned(paper, paper_id, mine, stored_papers)
        for (paper, _), paper_id, mine in zip(merged, paper_ids, own, strict=True)
    ]
    disagreements = [found for _, found_in_cluster in merged for found in found_in_cluster]
    index_of_label = {label: index for index, label in enumerate(planned_labels)}
    new_sightings = tuple(index_of_label[labels[len(stored_in_order) + i]] for i in range(len(new)))
    moved = tuple(
        (sighting, index_of_label[labels[i]])
        for i, sighting in enumerate(stored_in_order)
        if labels[i] in index_of_label and _moves(sighting, papers[index_of_label[labels[i]]])
    )
    kept = {p.paper_id for p in papers}
    planned_stored = {s.paper_id for i, s in enumerate(stored_in_order) if labels[i] in index_of_label}
    deleted = tuple(sorted(planned_stored - kept))
    return PaperPlan(tuple(papers), new_sightings, moved, deleted, tuple(disagreements))


def _joined(settled: Sequence[StoredSighting]) -> list[tuple[int, int]]:
    """Pairs of settled sightings stored under one paper: one cluster without comparing them."""
    first_of_paper: dict[int, int] = {}
    pairs = []
    for index, sighting in enumerate(settled):
        first = first_of_paper.setdefault(sighting.paper_id, index)
        if first != index:
            pairs.append((first, index))
    return pairs


def _choose_paper_ids(
    planned: list[Paper],
    own: list[list[StoredSighting]],
    previous: list[list[int | None]],
    stored_papers: dict[int, StoredPaper],
) -> list[int | None]:
    """Each cluster's paper_id (None: a new paper). An arXiv id keeps the paper that has it; then, earliest
    cluster first, the smallest of its sightings' stored papers, else of the papers ``--force`` detached
    from its places, that no other cluster kept and that has no other id."""
    chosen: list[int | None] = [None] * len(planned)
    holder = {values.values["arxiv_id"]: pid for pid, values in stored_papers.items() if values.values["arxiv_id"]}
    for index, paper in enumerate(planned):
        if paper.arxiv_id in holder and holder[paper.arxiv_id] in {s.paper_id for s in own[index]}:
            chosen[index] = holder[paper.arxiv_id]
    claimed = {pid for pid in chosen if pid is not None}
    for index, paper in enumerate(planned):
        if chosen[index] is not None:
            continue
        ours = {s.paper_id for s in own[index]}
        detached = {pid for pid in previous[index] if pid is not None}
        for candidates in (ours, detached):
            free = sorted(pid for pid in candidates if _free(pid, paper.arxiv_id, claimed, stored_papers))
            if free:
                chosen[index] = free[0]
                claimed.add(free[0])
                break
    return chosen


def _free(paper_id: int, arxiv_id: str | None, claimed: set[int], stored_papers: dict[int, StoredPaper]) -> bool:
    """Whether a cluster with ``arxiv_id`` may keep this stored paper."""
    stored = stored_papers.get(paper_id)
    return stored is not None and paper_id not in claimed and stored.values["arxiv_id"] in (None, arxiv_id)


def _planned(paper: Paper, paper_id: int | None, own: list[StoredSighting], stored_papers: dict) -> PlannedPaper:
    if paper_id is None:
        return PlannedPaper(paper, None)
    row, links, authors = stored_papers[paper_id].differences(paper)
    gained = any(s.paper_id != paper_id for s in own)
    return PlannedPaper(paper, paper_id, row, links, authors, gained)


def _moves(sighting: StoredSighting, planned: PlannedPaper) -> bool:
    keys = (sighting.member.paper.title_key, sighting.member.paper.abstract_key)
    return planned.paper_id != sighting.paper_id or keys != sighting.keys
