"""etl.load.plan: which paper each sighting belongs to, planned without a database."""

from __future__ import annotations

import dataclasses

from etl.dedup import Member, sighting_rank
from etl.load.plan import NewSighting, StoredPaper, StoredSighting, plan_papers
from etl.load.rows import link_values, paper_values
from etl.records import RawRecord
from etl.transform import transform_record

ABSTRACT = (
    "We route each token of a speech encoder to two of sixty-four experts and show that the error rate"
    " falls while the compute per token stays the same as a dense model of a quarter of the size."
)


def paper(title: str, arxiv_id: str | None = None):
    found = transform_record(RawRecord(1, 1, title, ABSTRACT))[0]
    return dataclasses.replace(found, arxiv_id=arxiv_id)


def member(found, day: int) -> Member:
    return Member(found, sighting_rank(None, f"{day:064d}", day))


def stored(found, paper_id: int, day: int) -> StoredSighting:
    return StoredSighting(member(found, day), paper_id, (day, 1), (found.title_key, found.abstract_key))


def row_of(found) -> StoredPaper:
    return StoredPaper(paper_values(found), frozenset(link_values(link) for link in found.links), ())


def test_a_new_sighting_of_a_stored_paper_is_listed_under_it_and_changes_nothing_else():
    speech = paper("Sparse Experts for Speech")
    plan = plan_papers(
        [NewSighting(member(paper("sparse experts for speech"), 2))], [stored(speech, 7, 1)], {7: row_of(speech)}
    )

    assert [p.paper_id for p in plan.papers] == [7]
    assert plan.new_sightings == (0,)
    assert (plan.inserted, plan.updated, plan.moved, plan.deleted) == (0, 0, (), ())


def test_a_new_sighting_that_shows_two_stored_papers_are_one_keeps_the_smaller_paper_id():
    first, second = paper("Sparse Experts for Speech"), paper("Sparse Experts for Speech (Extended)")
    bridge = dataclasses.replace(paper("Sparse experts for speech"), title_key=second.title_key)
    plan = plan_papers(
        [NewSighting(member(bridge, 3))],
        [stored(first, 4, 1), stored(second, 9, 2)],
        {4: row_of(first), 9: row_of(second)},
    )

    assert [p.paper_id for p in plan.papers] == [4]
    assert [(s.paper_id, target) for s, target in plan.moved] == [(9, 0)]  # paper 9's sighting moves to 4
    assert plan.deleted == (9,)
    assert plan.updated == 1


def test_fresh_papers_are_planned_again_so_an_id_less_sighting_can_move_to_another_id():
    # Stored: the id-less sighting joined 2401.00002 (the only id then). A new card with 2401.00001 comes:
    # planned from scratch, the id-less sighting joins whichever id one load of all three gives.
    one, two = paper("Sparse Experts for Speech", "2401.00001"), paper("Sparse Experts for Speech", "2401.00002")
    loose = paper("Sparse experts for speech")
    from_scratch = plan_papers(
        [NewSighting(member(one, 1)), NewSighting(member(two, 2)), NewSighting(member(loose, 3))], [], {}
    )
    joins_one = from_scratch.new_sightings[2] == from_scratch.new_sightings[0]

    plan = plan_papers(
        [NewSighting(member(one, 1))],
        [stored(two, 5, 2), stored(loose, 5, 3)],
        {5: row_of(two)},
        fresh={5},
    )

    assert plan.inserted == 1
    moved = [(s.place, plan.papers[target].paper_id) for s, target in plan.moved]
    assert moved == ([((3, 1), None)] if joins_one else [])
    assert plan.deleted == ()


def test_an_emptied_fresh_paper_is_deleted():
    speech = paper("Sparse Experts for Speech")
    plan = plan_papers(
        [], [stored(speech, 3, 1), stored(speech, 8, 2)], {3: row_of(speech), 8: row_of(speech)}, fresh={3, 8}
    )

    assert [p.paper_id for p in plan.papers] == [3]
    assert plan.deleted == (8,)
    assert [s.place for s, _ in plan.moved] == [(2, 1)]


def test_a_paper_detached_by_force_is_taken_back_by_the_sighting_at_its_place():
    speech = paper("Sparse Experts for Speech")
    plan = plan_papers([NewSighting(member(speech, 1), previous_paper_id=12)], [], {12: row_of(speech)})

    assert [p.paper_id for p in plan.papers] == [12]
    assert (plan.inserted, plan.updated) == (0, 0)
