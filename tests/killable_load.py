"""Run ``papers-etl`` with a pause at a named point, for the crash and lock tests.

    python tests/killable_load.py POINT [N] -- papers-etl arguments...

At POINT the process prints ``PAUSED`` on stdout and waits for a line on stdin
(at most PAUSE_LIMIT_S seconds, so a forgotten process ends by itself). The
test then kills it with SIGKILL, or resumes it by writing a line. Points:

- ``run-started``: the lock is held and the run row written, before the first file;
- ``mid-file N``: inside a file's open transaction, after its first N batches were
  written (so rows were written and not yet committed);
- ``after-file N``: after the N-th file committed (with a commit after every file);
- ``before-finish``: every file committed, the run row not yet finished;
- ``mid-replace``: ``--force`` removed the file's earlier load, in the open transaction.

KILLABLE_BATCH_RECORDS, when set, is the load's batch size (load.BATCH_RECORDS), so that
``mid-file`` can fall after a written batch on a small page.
"""

from __future__ import annotations

import os
import select
import sys

import etl.load
import etl.pipeline
from etl.cli import main

PAUSE_LIMIT_S = 120


def pause() -> None:
    print("PAUSED", flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], PAUSE_LIMIT_S)
    if ready:
        sys.stdin.readline()


def after_calls(function, count: int):
    """``function`` that pauses once it has returned ``count`` times."""
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        result = function(*args, **kwargs)
        calls += 1
        if calls == count:
            pause()
        return result

    return wrapper


def before_first_call(function):
    """``function`` that pauses before its first call."""
    paused = False

    def wrapper(*args, **kwargs):
        nonlocal paused
        if not paused:
            paused = True
            pause()
        return function(*args, **kwargs)

    return wrapper


def install(point: str, count: int) -> None:
    if point == "run-started":
        etl.pipeline._process_file = before_first_call(etl.pipeline._process_file)
    elif point == "mid-file":
        etl.load.files._load_batch = after_calls(etl.load.files._load_batch, count)
    elif point == "after-file":
        etl.load.session.COMMIT_SECONDS = {}  # a commit after every file, so that the N-th commit is the N-th file's
        etl.load.RunWriter._commit = after_calls(etl.load.RunWriter._commit, count)
    elif point == "before-finish":
        etl.load.finish_run = before_first_call(etl.load.finish_run)
    elif point == "mid-replace":
        etl.load.files._delete_previous_load = after_calls(etl.load.files._delete_previous_load, 1)
    else:
        raise SystemExit(f"unknown pause point {point}")


if __name__ == "__main__":
    separator = sys.argv.index("--")
    point, *numbers = sys.argv[1:separator]
    if "KILLABLE_BATCH_RECORDS" in os.environ:
        etl.load.files.BATCH_RECORDS = int(os.environ["KILLABLE_BATCH_RECORDS"])
    install(point, int(numbers[0]) if numbers else 1)
    main(sys.argv[separator + 1 :], prog_name="papers-etl")
