"""Load: the only package that writes to the database.

- ``runs``: run records (etl_runs, capture_formats, loaded files, rejects);
- ``session``: the write session of a run (a SAVEPOINT per file, commits about every second);
- ``files``: one parsed file, and ``load --force``'s replacement of an earlier load;
- ``region``: the stored sightings and papers a batch may touch;
- ``plan``: which paper each sighting belongs to, and what that changes (pure; load and rebuild);
- ``apply``: writing a plan;
- ``rebuild``: everything planned again from the stored sightings;
- ``rows``: rows from dataclasses and back; ``writer``: bulk writes, one writer per dialect.
"""

from .files import BATCH_RECORDS, FileCounts, SourceFile, load_file
from .rebuild import RebuildCounts, rebuild_papers
from .region import known_keys
from .runs import (
    INTERRUPTED_MESSAGE,
    RUN_COUNT_COLUMNS,
    RunCounts,
    finish_run,
    last_run_id,
    loaded_files,
    mark_abandoned_runs,
    recent_runs,
    record_capture_formats,
    record_problems,
    run_with_rejects,
    start_run,
)
from .session import COMMIT_SECONDS, RunWriter, TransactionLost
from .writer import CHUNK_ROWS, STATEMENT_ROWS

__all__ = [
    "BATCH_RECORDS",
    "CHUNK_ROWS",
    "COMMIT_SECONDS",
    "INTERRUPTED_MESSAGE",
    "RUN_COUNT_COLUMNS",
    "STATEMENT_ROWS",
    "FileCounts",
    "RebuildCounts",
    "RunCounts",
    "RunWriter",
    "SourceFile",
    "TransactionLost",
    "finish_run",
    "known_keys",
    "last_run_id",
    "load_file",
    "loaded_files",
    "mark_abandoned_runs",
    "rebuild_papers",
    "recent_runs",
    "record_capture_formats",
    "record_problems",
    "run_with_rejects",
    "start_run",
]
