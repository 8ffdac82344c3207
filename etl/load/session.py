"""The write session of a load run: each file in a SAVEPOINT, commits about every second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..db import redact
from ..errors import DatabaseError, InputError

log = logging.getLogger(__name__)

ANALYZE_MIN_ROWS = 2000  # PostgreSQL: listings written before the first ANALYZE of a run (see _PlannerStatistics)
# How often a run commits the files it wrote (see RunWriter). SQLite gains from committing
# many files at once; PostgreSQL does not (synchronous_commit is off, so a commit is cheap)
# and slows down when a transaction holds many savepoints (its subtransaction cache overflows).
COMMIT_SECONDS = {"sqlite": 1.0, "postgresql": 0.0}


class RunWriter:
    """The writes of one load run: each file in a SAVEPOINT of a transaction that is
    committed when COMMIT_SECONDS have passed since it began, and at the end.

    A file is still all or nothing (its savepoint is rolled back on any error), but
    a commit per file would write the pages many small files share (index pages,
    full-text segments) again at every file: on SQLite that was a third of a load
    of small files. A failure commits the files written before it, then lets the
    error through; a killed process loses at most the last COMMIT_SECONDS of work,
    which the next run loads again (those files are not recorded as loaded).
    ``on_commit`` is called after each commit: the files written since are loaded.
    """

    def __init__(self, engine: Engine, on_commit: Callable[[], None], on_lost: Callable[[], None] = lambda: None):
        self._engine = engine
        self._on_commit = on_commit
        self._on_lost = on_lost
        self._conn: Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._began = 0.0
        self._statistics = _PlannerStatistics() if engine.dialect.name == "postgresql" else None

    @contextmanager
    def file(self) -> Iterator[Connection]:
        """A connection inside this file's savepoint."""
        conn = self._begin()
        try:
            with conn.begin_nested():
                yield conn
        except InputError:
            raise  # the file is refused (its savepoint rolled back); the others go on
        except BaseException:
            self.finish(quietly=True)  # keep what was written before the failure
            raise

    def commit_if_due(self) -> None:
        every = COMMIT_SECONDS.get(self._engine.dialect.name, 0.0)
        if self._transaction is not None and time.monotonic() - self._began >= every:
            self._commit()

    def finish(self, quietly: bool = False) -> None:
        """Commit what is written and release the connection (``quietly``: after another failure)."""
        try:
            if self._transaction is not None:
                self._commit()
            else:
                self._on_commit()  # nothing written since the last commit (files skipped): all settled
        except Exception as exc:
            if not quietly:
                raise
            # One line (the error that stopped the run says the rest); the stack at -vv.
            lost = self._conn is not None and self._conn.invalidated
            log.warning("the files written since the last commit were not saved (%s)",
                        "the connection to the database was lost" if lost else _one_line(exc))  # fmt: skip
            log.debug("why they were not saved", exc_info=True)
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._transaction = None

    def _begin(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        if self._transaction is None:
            self._transaction = self._conn.begin()
            self._began = time.monotonic()
            if self._conn.dialect.name == "postgresql":
                # A server crash may then lose this commit, never corrupt anything: its files are simply
                # not recorded as loaded and the next run loads them again. Saves a WAL flush per commit.
                self._conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        return self._conn

    def grew(self, listings_written: int) -> None:
        """A file added this many listings (the tables' statistics may need refreshing)."""
        if self._statistics is not None:
            self._statistics.grown += listings_written

    def _commit(self) -> None:
        transaction, self._transaction = self._transaction, None
        try:
            if self._conn.dialect.name == "sqlite" and not self._conn.connection.driver_connection.in_transaction:
                # SQLite ends the transaction itself on some errors (a full disk, an I/O error), and
                # COMMIT then "succeeds" with nothing to commit: the files written since were lost.
                transaction.rollback()
                raise TransactionLost("the database ended the run's transaction after an error")
            transaction.commit()
        except BaseException:
            self._on_lost()  # the files written since the last commit are not in the database
            raise
        self._on_commit()
        if self._statistics is not None:
            self._statistics.refresh_if_due(self._conn)


class TransactionLost(DatabaseError):
    """The database rolled back the run's open transaction by itself."""


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return redact(text.splitlines()[0]) if text else type(exc).__name__


@dataclass
class _PlannerStatistics:
    """ANALYZE the tables a load grows, each time they have doubled, on PostgreSQL.

    Without statistics (a new database, autovacuum off or behind) the planner takes
    ``listings.title_key IN (…500 keys…)`` for most of the table and scans it whole:
    about 50 ms a lookup at 100,000 listings, and growing. ANALYZE samples a bounded
    number of rows (about 0.1 s), and doubling keeps it to a few per backfill.
    """

    analyzed: float | None = None  # listings when last analyzed (None: not read yet)
    grown: int = 0  # listings written since

    def refresh_if_due(self, conn: Connection) -> None:
        """Between transactions: analyze when the listings written since the last time are at
        least as many as there were then."""
        if self.analyzed is None:
            with conn.begin():
                reltuples = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'listings'::regclass")
                self.analyzed = max(reltuples.scalar_one(), 0.0)  # -1: never analyzed
        if self.grown < max(ANALYZE_MIN_ROWS, self.analyzed):
            return
        with conn.begin():
            conn.exec_driver_sql("ANALYZE listings, papers, paper_links, source_files")
        self.analyzed, self.grown = self.analyzed + self.grown, 0
        log.debug("analyzed the tables at about %d listings", self.analyzed)
