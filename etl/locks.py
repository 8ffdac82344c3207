"""One load at a time per database.

``papers-etl load`` holds a run lock from before the schema check until the run
row is finished, so two loads started at once never interleave: the second
waits up to ``--wait`` seconds, then gives up with LockNotAcquired.

- PostgreSQL: a session-level advisory lock on a connection of its own
  (``pg_try_advisory_lock``, polled until the deadline).
- SQLite: an exclusive write lock (``BEGIN EXCLUSIVE``) on a lock database
  next to the data file (``papers.db.lock``), with the wait as busy timeout.
  It cannot be the data file itself: the load commits one transaction per
  file on other connections, which a held write lock would block.

Both locks belong to the process's connection: when the process dies, even
by SIGKILL, the server (or the OS file lock under SQLite) releases them, so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import database_errors, safe_url
from .errors import DatabaseError, LockNotAcquired

# A fixed 63-bit key: advisory locks are per database, so one key serves every papers-etl database.
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"papers-etl load").digest()[:8], "big") >> 1
POLL_SECONDS = 0.2

log = logging.getLogger(__name__)
LOCK_SUFFIX = ".lock"


@contextmanager
def load_lock(engine: Engine, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the database's load lock for the block; LockNotAcquired after ``wait_seconds``."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, wait_seconds):
            yield
        return
    lock_file = sqlite_lock_path(engine)
    if lock_file is None:  # in-memory database: private to this process
        yield
        return
    with _sqlite_lock(lock_file, wait_seconds, safe_url(engine.url)):
        yield


def sqlite_lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().with_name(Path(database).name + LOCK_SUFFIX)


def _not_acquired(where: str, wait_seconds: float) -> LockNotAcquired:
    waited = f"after waiting {wait_seconds:g}s" if wait_seconds else "at once"
    return LockNotAcquired(
        f"{where}: another papers-etl load is running on this database (gave up {waited}); "
        "let it finish (`papers-etl runs` shows it) or pass --wait SECONDS"
    )


def _log_waiting(where: str, wait_seconds: float) -> None:
    log.info("%s: another load holds the lock; waiting up to %gs", where, wait_seconds)


@contextmanager
def _advisory_lock(engine: Engine, wait_seconds: float) -> Iterator[None]:
    where = safe_url(engine.url)
    deadline = time.monotonic() + wait_seconds
    with database_errors(engine.url):
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with database_errors(engine.url):
            attempt = 0
            while not conn.execute(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_LOCK_KEY))).scalar_one():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _not_acquired(where, wait_seconds)
                if attempt == 0:
                    _log_waiting(where, wait_seconds)
                attempt += 1
                time.sleep(min(POLL_SECONDS, remaining))
        try:
            yield
        finally:
            # The connection goes back to the pool: the session lock must be released explicitly.
            with database_errors(engine.url):
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    finally:
        conn.close()


@contextmanager
def _sqlite_lock(lock_file: Path, wait_seconds: float, where: str) -> Iterator[None]:
    try:
        conn = sqlite3.connect(lock_file, timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{where}: cannot open the lock file {lock_file} ({exc}); check the folder") from None
    try:
        if not _begin_exclusive(conn, lock_file, where) and not _wait_exclusive(conn, lock_file, where, wait_seconds):
            raise _not_acquired(where, wait_seconds)
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def _wait_exclusive(conn: sqlite3.Connection, lock_file: Path, where: str, wait_seconds: float) -> bool:
    if wait_seconds <= 0:
        return False
    _log_waiting(where, wait_seconds)
    conn.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")  # SQLite waits, retrying, up to this
    return _begin_exclusive(conn, lock_file, where)


def _begin_exclusive(conn: sqlite3.Connection, lock_file: Path, where: str) -> bool:
    """Take the lock database's write lock; False if another connection holds it."""
    try:
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return False
        raise DatabaseError(f"{where}: cannot use the lock file {lock_file} ({exc}); check the folder") from None
    return True
