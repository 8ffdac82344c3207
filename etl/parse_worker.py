"""The parsing process of a load: ``serve(TASKS_FD, RESULTS_FD)``.

Started by ``etl.parsing.Parser``, which imports it from its own package folder;
never by hand. A module of its own, so that the worker imports only the parsing
code (not the command line, the database layer or the caller's ``__main__``), and
the events it sends are ``etl.events``' own classes, which the load receives as they are.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from .parsing import work


def serve(tasks_fd: int, results_fd: int) -> None:
    work(Connection(tasks_fd, writable=False), Connection(results_fd, readable=False))


if __name__ == "__main__":
    serve(*(int(arg) for arg in sys.argv[1:3]))
