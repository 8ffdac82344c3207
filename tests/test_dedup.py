"""etl.dedup: which sightings are one paper (pure), and what the paper row holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from etl.dedup import Member, blocking_keys, components, merge, same_paper, sighting_rank, union_links
from etl.records import LINK_GITHUB_REPO, LINK_OTHER, Link, RawRecord
from etl.transform import transform_record

ABSTRACT = (
    "We study sparse mixtures of experts for speech recognition and show that routing tokens by acoustic"
    " context halves the compute needed to reach the same word error rate on three public benchmarks."
)
OTHER_ABSTRACT = (
    "A survey of graph neural networks for molecule property prediction, covering message passing,"
    " equivariant layers and pre-training, with a benchmark of twenty models on eight data sets."
)


def paper(title: str, abstract: str = ABSTRACT, meta: tuple[str | None, str | None] = (None, None)):
    authors, published = meta
    record = RawRecord(1, 1, title, abstract, raw_authors=authors, raw_published=published)
    return transform_record(record)[0]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Sparse Experts for Speech", "sparse experts for speech"),
        ("Re-weighting Sparse Experts", "Reweighting Sparse Experts"),
        ("Rényi Experts for Speech", "R\\'enyi Experts for Speech"),
        ("Renyi Experts for Speech", "Rényi Experts for Speech"),
        ("$\\mathcal{O}(n)$ Experts", "O(n) Experts"),
        ("Sparse   Experts:  for Speech", "Sparse Experts for Speech"),
    ],
)
def test_markup_variants_of_a_title_are_one_paper(first, second):
    assert same_paper(paper(first), paper(second))


def test_the_same_abstract_under_a_slightly_different_title_is_one_paper():
    assert same_paper(paper("Sparse Experts for Speech"), paper("Towards Sparse Experts for Speech Recognition"))


def test_a_revised_or_truncated_abstract_is_the_same_paper():
    revised = ABSTRACT.replace("halves", "roughly halves")
    truncated = ABSTRACT[:150]
    assert same_paper(paper("Sparse Experts", ABSTRACT), paper("Sparse Experts", revised))
    assert same_paper(paper("Sparse Experts", ABSTRACT), paper("Sparse Experts", truncated))
    assert same_paper(paper("Sparse Experts", ABSTRACT), paper("Sparse Experts", ""))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Scaling Laws", ABSTRACT), ("Scaling Laws", OTHER_ABSTRACT)),  # a generic title, unrelated papers
        (("Sparse Experts Part I", ABSTRACT), ("Sparse Experts Part II", ABSTRACT)),
        (("GPT-3 Experts", ABSTRACT), ("GPT-4 Experts", ABSTRACT)),
        (("Weighted Conditional Flow Matching", ABSTRACT), ("Conditional Flow Matching", OTHER_ABSTRACT)),
        (("Sparse Experts for Speech", ABSTRACT), ("Dense Graphs for Molecules", ABSTRACT)),  # titles unalike
    ],
)
def test_distinct_papers_stay_distinct(first, second):
    assert not same_paper(paper(*first), paper(*second))


def test_a_short_abstract_does_not_identify_a_paper():
    assert not same_paper(paper("Attention for Speech", "Code soon."), paper("Attention for Vision", "Code soon."))
    assert blocking_keys(paper("A", "Code soon.")) == ["t:a"]


def test_same_paper_is_symmetric():
    samples = [
        paper(t, a)
        for t, a in itertools.product(["Scaling Laws", "Scaling Laws II", "Scaling"], [ABSTRACT, OTHER_ABSTRACT, ""])
    ]
    for a, b in itertools.product(samples, repeat=2):
        assert same_paper(a, b) == same_paper(b, a)


def test_components_do_not_depend_on_order():
    papers = [
        paper("Scaling Laws", ABSTRACT),
        paper("Scaling Laws", OTHER_ABSTRACT),
        paper("Scaling laws", ""),  # bridges both: the empty abstract agrees with each
        paper("Towards Scaling Laws", ABSTRACT),
        paper("Dense Graphs", OTHER_ABSTRACT[:40]),
    ]
    expected = None
    for order in itertools.permutations(range(len(papers))):
        labels = components([papers[i] for i in order])
        groups = frozenset(frozenset(order[i] for i, lb in enumerate(labels) if lb == label) for label in set(labels))
        expected = expected or groups
        assert groups == expected
    assert expected == {frozenset({0, 1, 2, 3}), frozenset({4})}


def test_components_honour_known_pairs():
    a, b = paper("Sparse Experts", ABSTRACT), paper("Dense Graphs", OTHER_ABSTRACT)
    assert components([a, b]) == [0, 1]
    assert components([a, b], joined=[(0, 1)]) == [0, 0]


def member(title, published=None, authors=None, listed_on=None, sha="a", position=1, abstract=ABSTRACT):
    return Member(paper(title, abstract, (authors, published)), sighting_rank(listed_on, sha, position))


def test_merge_takes_text_from_the_earliest_listing_and_votes_for_fields():
    members = [
        member("Late Title", "Jun 7, 2023", "• 3 authors", dt.date(2026, 3, 2)),
        member("Early Title", "Jun 8, 2023", "• 4 authors", dt.date(2026, 3, 1)),
        member("Undated Title", "Jun 8, 2023", "• 3 authors", None),
    ]
    merged, disagreements = merge(members)
    assert merged.title == "Early Title"
    assert merged.published_on == dt.date(2023, 6, 8)  # two sightings against one
    assert merged.author_count == 3
    assert {(d.member.paper.title, d.field, d.value, d.others, d.kept) for d in disagreements} == {
        ("Late Title", "published_on", dt.date(2023, 6, 7), (dt.date(2023, 6, 8),), dt.date(2023, 6, 8)),
        ("Early Title", "published_on", dt.date(2023, 6, 8), (dt.date(2023, 6, 7),), dt.date(2023, 6, 8)),
        ("Undated Title", "published_on", dt.date(2023, 6, 8), (dt.date(2023, 6, 7),), dt.date(2023, 6, 8)),
        ("Late Title", "author_count", 3, (4,), 3),
        ("Early Title", "author_count", 4, (3,), 3),
        ("Undated Title", "author_count", 3, (4,), 3),
    }
    assert all(merge(list(order))[0] == merged for order in itertools.permutations(members))


def test_merge_breaks_ties_by_earliest_date_and_largest_count():
    merged, disagreements = merge(
        [member("T", "Jun 7, 2023", "• 3 authors"), member("T", "Jun 9, 2023", "• 5 authors")]
    )
    assert (merged.published_on, merged.author_count) == (dt.date(2023, 6, 7), 5)
    assert len(disagreements) == 4
    assert merge([member("T", "Jun 7, 2023"), member("T", None, "• 2 authors")])[1] == []


def test_undated_listings_rank_after_dated_ones_then_by_file_and_position():
    assert sighting_rank(dt.date(2026, 1, 1), "f", 9) < sighting_rank(None, "a", 1)
    assert sighting_rank(None, "a", 2) < sighting_rank(None, "b", 1)


def test_union_links_keeps_one_link_per_repository():
    links = [
        Link("https://github.com/a/b/tree/main", LINK_GITHUB_REPO, "a/b"),
        Link("https://github.com/a/b", LINK_GITHUB_REPO, "a/b"),
        Link("https://x.org", LINK_OTHER),
        Link("https://x.org", LINK_OTHER),
    ]
    assert union_links(links) == (
        Link("https://github.com/a/b", LINK_GITHUB_REPO, "a/b"),
        Link("https://x.org", LINK_OTHER),
    )
    assert union_links(reversed(links)) == union_links(links)


# --------------------------------------------------------------------------- arXiv ids


def with_id(found, arxiv_id: str | None):
    return dataclasses.replace(found, arxiv_id=arxiv_id)


def groups_in_every_order(papers) -> frozenset:
    """The clusters (as sets of input indices), checked to be the same for every input order."""
    expected = None
    for order in itertools.permutations(range(len(papers))):
        labels = components([papers[i] for i in order])
        groups = frozenset(frozenset(order[i] for i, lb in enumerate(labels) if lb == label) for label in set(labels))
        expected = expected or groups
        assert groups == expected
    return expected


def test_one_arxiv_id_is_one_paper_even_under_a_revised_title():
    first = with_id(paper("Sparse Experts for Speech", ABSTRACT), "2401.00001")
    revised = with_id(paper("Routing Experts by Acoustic Context", OTHER_ABSTRACT), "2401.00001")
    assert same_paper(first, revised)
    assert groups_in_every_order([first, revised]) == {frozenset({0, 1})}


def test_two_arxiv_ids_are_two_papers_even_under_one_title_and_abstract():
    first = with_id(paper("Sparse Experts for Speech"), "2401.00001")
    resubmitted = with_id(paper("Sparse Experts for Speech"), "2401.00002")
    assert not same_paper(first, resubmitted)
    assert groups_in_every_order([first, resubmitted]) == {frozenset({0}), frozenset({1})}


def test_a_sighting_without_an_id_joins_by_the_text_rules_and_never_bridges_two_ids():
    papers = [
        with_id(paper("Sparse Experts for Speech"), "2401.00001"),
        with_id(paper("Sparse Experts for Speech"), "2401.00002"),
        paper("Sparse experts for speech"),  # matches both by title and abstract: joins one of them only
        paper("Dense Graphs", OTHER_ABSTRACT),
    ]
    groups = groups_in_every_order(papers)
    assert frozenset({3}) in groups and len(groups) == 3
    assert {frozenset({0, 2}), frozenset({1})} <= groups or {frozenset({0}), frozenset({1, 2})} <= groups


def test_an_id_is_a_blocking_key_and_the_merged_paper_keeps_it():
    found = with_id(paper("Sparse Experts for Speech"), "2401.00001")
    assert "x:2401.00001" in blocking_keys(found)
    merged, _ = merge([Member(paper("Sparse Experts for Speech"), (0,)), Member(found, (1,))])
    assert merged.arxiv_id == "2401.00001"


def test_a_sighting_alone_merges_into_what_two_copies_of_it_merge_into():
    repo = "https://github.com/example/sparse-experts"
    alone = dataclasses.replace(
        paper("Sparse Experts for Speech", meta=("• 5 authors", "Jun 7, 2023")),
        links=(Link(repo, LINK_GITHUB_REPO, "example/sparse-experts", "abstract"),) * 2,
        author_names=(("Ada Lovelace", None), ("Alan Turing", "aturing")),
        arxiv_id="",
    )
    once = Member(alone, sighting_rank(dt.date(2026, 3, 1), "a", 1))
    twice = Member(alone, sighting_rank(dt.date(2026, 3, 2), "b", 1))

    merged, disagreements = merge([once])

    assert (merged, disagreements) == (merge([once, twice])[0], [])
    assert merged.links == (Link(repo, LINK_GITHUB_REPO, "example/sparse-experts", "abstract"),)
    assert (merged.author_count, merged.arxiv_id) == (2, None)
    plain = Member(paper("Sparse Experts for Speech"), sighting_rank(None, "c", 1))
    assert merge([plain])[0] == plain.paper
