"""The parsing process of a load: ``python -m etl.parse_worker TASKS_FD RESULTS_FD``.

Started by ``etl.parsing.Parser``, never by hand. A module of its own, so that the
worker imports only the parsing code (not the command line, the database layer
or the caller's ``__main__``), and the objects it sends are ``etl.parsing``'s.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from .parsing import work

if __name__ == "__main__":
    tasks_fd, results_fd = (int(arg) for arg in sys.argv[1:3])
    work(Connection(tasks_fd, writable=False), Connection(results_fd, readable=False))
