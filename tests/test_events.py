"""etl.events: a file's events regrouped for a consumer that takes more sightings at a time than the parser sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.events import FileEnd, SightingBatch, Tally, rebatched
from etl.extract import fingerprint_file
from etl.parsing import parse_events

DATA = Path(__file__).parent / "data"


def sightings_and_end(path):
    _, *batches, end = parse_events(fingerprint_file(path), None)
    return [s for batch in batches for s in batch.sightings], end


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_rebatched_keeps_the_sightings_in_order_and_the_end_last(size):
    sightings, end = sightings_and_end(DATA / "daily_basic.txt")
    events = [*(SightingBatch((s,)) for s in sightings), end]  # one sighting per batch, as parsed

    *batches, last = rebatched(events, size)

    assert last == end
    assert [len(batch.sightings) for batch in batches[:-1]] == [size] * (len(batches) - 1)
    assert 1 <= len(batches[-1].sightings) <= size
    assert [s for batch in batches for s in batch.sightings] == sightings


def test_rebatched_of_a_file_without_sightings_is_its_end():
    end = FileEnd((), Tally(), "0" * 32)
    assert list(rebatched([end], 5)) == [end]


def test_rebatched_refuses_a_stream_that_stops_before_its_end():
    sightings, _ = sightings_and_end(DATA / "daily_basic.txt")
    with pytest.raises(ValueError, match="stopped before its end"):
        list(rebatched([SightingBatch(tuple(sightings))], 2))
