"""What parsing hands to the load: the events of one file, small and immutable.

``etl.parsing.parse_events`` yields, for each file, one ``FileHead``, then
``SightingBatch`` es, then one ``FileEnd`` (or raises the InputError that
refuses the file). The worker process sends these same objects over its pipe,
and ``load.load_file`` consumes them as they come: memory holds a batch or two,
never a file. Everything a file's head says is known before its first sighting;
everything known only once the file is read through (its problems, their
tally, the parse digest) comes in its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .extract import Fingerprint
from .records import LEVEL_FIELD, LEVEL_RECORD, Capture, ListingDate, Problem, Sighting


@dataclass(frozen=True)
class FileHead:
    """What a file says before its first record: its layout, the capture tool's facts, its listing date."""

    fingerprint: Fingerprint
    layout: str
    listing_date: ListingDate  # its value and where it came from (option, page URL, file name, header)
    capture: Capture


@dataclass(frozen=True)
class SightingBatch:
    """The next sightings of a file, in page order."""

    sightings: tuple[Sighting, ...]


@dataclass(frozen=True)
class Tally:
    """A file's records that became papers, and its problems by level."""

    records: int = 0
    records_rejected: int = 0
    fields_rejected: int = 0

    @classmethod
    def of(cls, records: int, problems: Iterable[Problem]) -> Tally:
        levels = [problem.level for problem in problems]
        return cls(records, levels.count(LEVEL_RECORD), levels.count(LEVEL_FIELD))


@dataclass(frozen=True)
class FileEnd:
    """What is known once a file is read through."""

    problems: tuple[Problem, ...]  # its rejects rows, in the order found: head, records, page
    tally: Tally
    digest: str  # what the file parses to (etl.parsing), which ``load --force`` compares


FileEvent = FileHead | SightingBatch | FileEnd


def rebatched(events: Iterable[SightingBatch | FileEnd], size: int) -> Iterator[SightingBatch | FileEnd]:
    """A file's events after its head, with the sightings regrouped ``size`` to a batch (the last
    one smaller), then its end: the load clusters more sightings at once than the parser sends."""
    pending: list[Sighting] = []
    for event in events:
        if isinstance(event, FileEnd):
            if pending:
                yield SightingBatch(tuple(pending))
            yield event
            return
        pending.extend(event.sightings)
        while len(pending) >= size:
            yield SightingBatch(tuple(pending[:size]))
            del pending[:size]
    raise ValueError("a file's events stopped before its end")
