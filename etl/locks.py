"""One load at a time per database.

``papers-etl load`` holds a run lock from before the schema check until the run
row is finished, so two loads started at once never interleave: the second
waits up to ``--wait`` seconds, then gives up with LockNotAcquired.

- PostgreSQL: a session-level advisory lock on a connection of its own
  (``pg_try_advisory_lock``, polled until the deadline).
- SQLite: an exclusive ``flock`` on the database file itself. It belongs to the
  file (its device and inode), not to the name it was reached by, so every
  spelling of one database (a symbolic link, a hard link, a relative path) meets
  the same lock. It does not touch SQLite's own locks (byte ranges taken with
  ``fcntl``), which the load's connections go on using. The file is opened once
  per process and never closed: closing any descriptor of a file drops every
  ``fcntl`` lock the process holds on it, SQLite's included.

Both locks belong to the process: when it dies, even by SIGKILL, the server (or
the kernel) releases them, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import database_errors, safe_url, sqlite_path
from .errors import DatabaseError, LockNotAcquired

# A fixed 63-bit key: advisory locks are per database, so one key serves every papers-etl database.
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"papers-etl load").digest()[:8], "big") >> 1
POLL_SECONDS = 0.2

log = logging.getLogger(__name__)


@contextmanager
def load_lock(engine: Engine, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the database's load lock for the block; LockNotAcquired after ``wait_seconds``."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, wait_seconds):
            yield
        return
    path = sqlite_path(engine.url)
    if path is None:  # in-memory database: private to this process
        yield
        return
    with _file_lock(path, wait_seconds, safe_url(engine.url)):
        yield


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
        except BaseException:
            # A server that went away took the lock with it: the error that stopped the run is the one to tell.
            with suppress(DatabaseError):
                _advisory_unlock(engine, conn)
            raise
        _advisory_unlock(engine, conn)
    finally:
        conn.close()


def _advisory_unlock(engine: Engine, conn) -> None:
    # The connection goes back to the pool: the session lock must be released explicitly.
    with database_errors(engine.url):
        conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))


_descriptors: dict[tuple[int, int], int] = {}  # (device, inode) -> descriptor, open until the process ends
_held: set[tuple[int, int]] = set()  # databases this process holds the load lock of


@contextmanager
def _file_lock(path: Path, wait_seconds: float, where: str) -> Iterator[None]:
    identity, descriptor = _database_descriptor(path, where)
    deadline = time.monotonic() + wait_seconds
    attempt = 0
    while not _try_lock(identity, descriptor, where):
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
        _held.discard(identity)
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def _try_lock(identity: tuple[int, int], descriptor: int, where: str) -> bool:
    if identity in _held:  # this process already runs a load on it (flock would let it in again)
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        raise DatabaseError(
            f"{where}: cannot lock the database file ({exc.strerror or exc}); check the folder"
        ) from None
    _held.add(identity)
    return True


def _database_descriptor(path: Path, where: str) -> tuple[tuple[int, int], int]:
    """The database file's identity and a descriptor of it (creating the file, empty, for a new
    database: SQLite reads an empty file as an empty database)."""
    try:
        if path.exists():
            st = os.stat(path)
            if (st.st_dev, st.st_ino) in _descriptors:
                return (st.st_dev, st.st_ino), _descriptors[(st.st_dev, st.st_ino)]
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise DatabaseError(
            f"{where}: cannot open the database file ({exc.strerror or exc}); check the folder"
        ) from None
    st = os.fstat(descriptor)
    identity = (st.st_dev, st.st_ino)
    if identity in _descriptors:  # created or replaced between the two looks: keep the first descriptor
        descriptor = _descriptors[identity]  # (the new one stays open: closing it would drop SQLite's locks)
    _descriptors.setdefault(identity, descriptor)
    return identity, _descriptors[identity]
