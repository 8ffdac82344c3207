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

import importlib

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

# Names from the modules that load and plan papers (and import the transform and deduplication),
# imported at their first use: a run that finds every file already loaded never needs them.
_LAZY = {
    "BATCH_RECORDS": "files",
    "FileCounts": "files",
    "SourceFile": "files",
    "load_file": "files",
    "RebuildCounts": "rebuild",
    "rebuild_papers": "rebuild",
    "known_keys": "region",
}


_MODULES = {"apply", "files", "plan", "rebuild", "region", "rows"}  # ``etl.load.files`` works as before too


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)  # an import also sets it here
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


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
