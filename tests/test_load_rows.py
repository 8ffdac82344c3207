"""etl.load.rows: what a stored sighting reads back as, with and without the papers its load kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from conftest import CAPTURES, DATA, SEEDS

from etl.load.region import read_all_sightings
from etl.load.rows import RECENT_PAPERS, _Loaded, member_from_row
from etl.pipeline import run_load
from etl.records import CardFacts, RawRecord, Sighting
from etl.transform import transform_record


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


def test_a_written_sighting_whose_dates_reading_back_bounds_otherwise_is_not_taken_from_the_cache():
    """A card's own listing date bounds a year-less date when the sighting is read back; the page's bounded
    it in the parse. Where the two differ, the parse's paper is not what reading back gives: no match."""
    page_date, card_date = dt.date(2024, 1, 10), dt.date(2023, 12, 1)
    record = RawRecord(
        1, 3, "Sparse Experts", "An abstract.", raw_published="Dec 28", card=CardFacts(listed_on=card_date)
    )
    paper = transform_record(record, page_date)[0]
    sighting = Sighting(record, paper, record.card)
    on_its_page = _Loaded(Sighting(replace(record, card=CardFacts()), paper, CardFacts()), page_date, None, None)
    with_its_own_date = _Loaded(sighting, page_date, None, None)

    assert on_its_page.read_inputs()[:5] == ("Sparse Experts", "An abstract.", None, "Dec 28", page_date)
    assert with_its_own_date.read_inputs() == ()  # never equal to what a look-up asks for
