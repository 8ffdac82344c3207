"""etl.load.rows: what a stored sighting reads back as, with and without the papers its load kept."""

from __future__ import annotations

from conftest import CAPTURES, DATA, SEEDS

from etl.load.region import read_all_sightings
from etl.load.rows import RECENT_PAPERS, member_from_row
from etl.pipeline import run_load


def _read_back(engine) -> list[tuple]:
    with engine.connect() as conn:
        members = [member_from_row(row) for row in read_all_sightings(conn)]
    return [(m.paper, m.paper.folded_title, m.rank, m.path, m.line_no) for m in members]


def test_a_sighting_read_back_through_the_papers_its_load_kept_is_the_sighting_read_afresh(engine):
    """The load keeps the paper each sighting it wrote was read as (RECENT_PAPERS), so that a later batch
    reads it back without the transform: for every format (text, Markdown, saved pages, the papers API,
    cards with their own listing dates) what it finds must be what reading the raw text again gives."""
    inputs = [DATA, *(folder for folder in (SEEDS, CAPTURES) if folder.is_dir())]
    RECENT_PAPERS.clear()
    run_load(engine, inputs)

    kept = _read_back(engine)
    hits = RECENT_PAPERS.hits
    RECENT_PAPERS.clear()
    afresh = _read_back(engine)

    assert kept == afresh
    assert hits >= 0.9 * len(afresh) > 0  # nearly every sighting was found, not parsed again
