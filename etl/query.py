"""Run an analyst's SQL statement read-only.

Three guards, so that a mistyped statement can never change the data:

1. The statement must start with a reading keyword (SELECT, WITH, VALUES, TABLE,
   EXPLAIN, SHOW; on SQLite also the schema pragmas such as ``PRAGMA table_info``).
2. Only one statement runs: SQLite's driver refuses several, and on PostgreSQL the
   statement is prepared (extended protocol), which refuses several too.
3. The database itself refuses writes: PostgreSQL runs it in a READ ONLY
   transaction that is rolled back; SQLite opens the file with ``mode=ro``, sets
   ``PRAGMA query_only`` and installs an authorizer that allows reading only (no
   ATTACH, no writing pragma, no transaction control).

This guards against accidents, not against a hostile database superuser: for a
BI tool, use a role made by ``papers-etl db grant-readonly``.

A statement runs at most ``timeout`` seconds (``--timeout``, default 60, 0 for no
limit), and Ctrl-C cancels it: PostgreSQL through ``statement_timeout`` and a
cancel request (psycopg sends one on Ctrl-C), SQLite through a progress handler
that interrupts the statement, since SQLite's C code would otherwise run on.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy.engine import URL

from . import db
from .errors import ConfigError, EtlError

if TYPE_CHECKING:
    import psycopg

DEFAULT_TIMEOUT_SECONDS = 60
PROGRESS_STEPS = 10_000  # SQLite virtual machine steps between two checks for a timeout or Ctrl-C
READING_KEYWORDS = ("select", "with", "values", "table", "explain", "show", "pragma")
FETCH_ROWS = 1000

# Pragmas that only read (the schema, or data_version, which FTS5 reads); every other pragma is refused.
READING_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
     "data_version"}
)  # fmt: skip
_SQLITE_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
)
_LEADING_NOISE = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/|\()*", re.DOTALL)


class QueryError(EtlError):
    """The statement failed (bad SQL, unknown table…)."""


class QueryRefused(QueryError):
    """The statement would write, or is more than one statement."""


class QueryTimedOut(QueryError):
    """The statement ran longer than --timeout."""


class QueryCancelled(QueryError):
    """The statement was cancelled with Ctrl-C."""


def _timed_out(timeout: float) -> QueryTimedOut:
    return QueryTimedOut(f"query stopped after {timeout:g} s (--timeout); narrow it, or raise --timeout (0: no limit)")


CANCELLED = "query cancelled (Ctrl-C)"


@dataclass
class QueryResult:
    columns: list[str]
    rows: Iterator[tuple]


Executor = Callable[[str, dict[str, str]], QueryResult]


def first_keyword(sql: str) -> str:
    """The statement's first word, lower case, after comments, white space and opening brackets."""
    rest = _LEADING_NOISE.sub("", sql, count=1)
    match = re.match(r"[A-Za-z]+", rest)
    return match[0].lower() if match else ""


def check_reads(sql: str) -> None:
    """QueryRefused unless the statement starts with a reading keyword."""
    keyword = first_keyword(sql)
    if keyword not in READING_KEYWORDS:
        shown = keyword.upper() or "an empty statement"
        raise QueryRefused(
            f"query refused: {shown} is not a reading statement; papers-etl query runs one "
            "SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW or schema PRAGMA and never writes"
        )


# A quoted literal or identifier, a comment, a ::cast, or a named parameter (group 1).
_SQL_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|::|(?<![\w:]):(\w+)""", re.DOTALL)


def parameter_names(sql: str) -> list[str]:
    """The named parameters (``:name``) of a statement, in order, once each; none in literals or comments."""
    names = [m[1] for m in _SQL_TOKENS.finditer(sql) if m[1]]
    return list(dict.fromkeys(names))


def _pyformat(sql: str) -> str:
    """:name as psycopg's %(name)s, and every % doubled (psycopg reads % anywhere in the text)."""
    sql = sql.replace("%", "%%")
    return _SQL_TOKENS.sub(lambda m: f"%({m[1]})s" if m[1] else m[0], sql)


def check_parameters(sql: str, params: dict[str, str]) -> None:
    """QueryError naming any parameter the statement uses but was not given, or given but not used."""
    names = parameter_names(sql)
    missing = [n for n in names if n not in params]
    unused = [n for n in params if n not in names]
    if missing:
        shown = " ".join(f"-p {n} VALUE" for n in missing)
        raise QueryError(f"the statement needs a value for {', '.join(':' + n for n in missing)}: give {shown}")
    if unused:
        raise QueryError(f"the statement has no parameter {', '.join(':' + n for n in unused)}")


@contextmanager
def read_only_connection(url: str | None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Iterator[Executor]:
    """An ``execute(sql, params) -> QueryResult`` function on a connection that cannot write, whose
    statements stop after ``timeout`` seconds (0: never) or on Ctrl-C."""
    parsed = db.normalise_url(db.resolve_url(url))
    opener = _sqlite_read_only if parsed.get_backend_name() == "sqlite" else _postgres_read_only
    with opener(parsed, timeout) as execute:
        yield execute


@contextmanager
def run_query(
    url: str | None, sql: str, params: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> Iterator[QueryResult]:
    """Check and run one reading statement, its ``:name`` parameters bound to ``params``; its rows can be
    read while the context is open.

    QueryTimedOut after ``timeout`` seconds (0: no limit), QueryCancelled on Ctrl-C."""
    check_reads(sql)
    params = params or {}
    check_parameters(sql, params)
    try:
        with read_only_connection(url, timeout) as execute:
            yield execute(sql, params)
    except KeyboardInterrupt:
        raise QueryCancelled(CANCELLED) from None


# --------------------------------------------------------------------------- SQLite


@contextmanager
def _sqlite_read_only(url: URL, timeout: float) -> Iterator[Executor]:
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise ConfigError(f"{db.safe_url(url)}: papers-etl query needs a SQLite database file path")
    if not Path(path).expanduser().is_file():
        raise ConfigError(f"{db.safe_url(url)}: no database file at {path}; `papers-etl load PATH...` creates one")
    uri = f"file:{quote(str(Path(path).expanduser().resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=db.SQLITE_BUSY_TIMEOUT_S)
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_sqlite_authorizer)
    except sqlite3.Error as exc:
        raise QueryError(f"{db.safe_url(url)}: {exc}") from None
    stop = _SqliteStop(timeout)
    conn.set_progress_handler(stop, PROGRESS_STEPS)
    try:
        with stop.on_ctrl_c():
            yield lambda sql, params=None: _sqlite_execute(conn, sql, stop, params or {})
    finally:
        conn.close()


class _SqliteStop:
    """The progress handler: a non-zero answer interrupts the running statement."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if timeout > 0 else None
        self.cancelled = False

    def __call__(self) -> int:
        return int(self.cancelled or (self.deadline is not None and time.monotonic() > self.deadline))

    @contextmanager
    def on_ctrl_c(self) -> Iterator[None]:
        """Ctrl-C sets a flag the handler reads (a KeyboardInterrupt raised inside the handler
        would be swallowed by sqlite3); the default handler is back afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, lambda *_: setattr(self, "cancelled", True))
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def error(self, exc: sqlite3.Error) -> QueryError | None:
        """The error to raise for an interrupted statement (None: it was not interrupted)."""
        if "interrupted" not in str(exc):
            return None
        return QueryCancelled(CANCELLED) if self.cancelled else _timed_out(self.timeout)


def _sqlite_authorizer(action: int, arg1, arg2, _db_name, _trigger) -> int:
    if action in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in READING_PRAGMAS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # An FTS5 table declaring its columns when first used parses as this; a real write to the
        # schema is still impossible (mode=ro and query_only).
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _sqlite_execute(conn: sqlite3.Connection, sql: str, stop: _SqliteStop, params: dict[str, str]) -> QueryResult:
    try:
        cursor = conn.execute(sql, params) if params else conn.execute(sql)
    except sqlite3.ProgrammingError as exc:
        raise QueryRefused(f"query refused: {exc} (run one statement)") from None
    except sqlite3.DatabaseError as exc:
        if "not authorized" in str(exc) or "readonly" in str(exc):
            raise QueryRefused(f"query refused: {exc}; papers-etl query never writes") from None
        raise stop.error(exc) or QueryError(f"query failed: {_first_line(exc)}") from None
    columns = [d[0] for d in cursor.description or ()]
    return QueryResult(columns, _fetch(cursor, sqlite3.Error, stop.error))


# --------------------------------------------------------------------------- PostgreSQL


@contextmanager
def _postgres_read_only(url: URL, timeout: float) -> Iterator[Executor]:
    engine = db.create_engine(url.render_as_string(hide_password=False))
    try:
        with db.database_errors(url):
            raw = engine.raw_connection()
        conn: psycopg.Connection = raw.driver_connection
        try:
            conn.read_only = True  # every transaction on it starts with BEGIN READ ONLY
            yield lambda sql, params=None: _postgres_execute(conn, sql, timeout, params or {})
        finally:
            conn.rollback()
            conn.read_only = False
            raw.close()
    finally:
        engine.dispose()


def _postgres_execute(conn: psycopg.Connection, sql: str, timeout: float, params: dict[str, str]) -> QueryResult:
    import psycopg  # here, not at start-up: a SQLite user or a load never needs it

    if params:
        sql = _pyformat(sql)
    cursor = conn.cursor()
    try:
        # For this transaction only (the connection goes back to a pool); 0 means no limit.
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{int(timeout * 1000)}ms"])
        # prepare=True sends it through the extended protocol, which takes one statement only.
        cursor.execute(sql, params or None, prepare=True)
    except psycopg.errors.QueryCanceled as exc:
        conn.rollback()
        if "statement timeout" in str(exc):
            raise _timed_out(timeout) from None
        raise QueryError(f"query failed: {_first_line(exc)}") from None
    except (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege) as exc:
        conn.rollback()
        raise QueryRefused(f"query refused: {_first_line(exc)}; papers-etl query never writes") from None
    except psycopg.Error as exc:
        conn.rollback()
        if "multiple commands" in str(exc):
            raise QueryRefused(f"query refused: {_first_line(exc)} (run one statement)") from None
        raise QueryError(f"query failed: {_first_line(exc)}") from None
    columns = [d.name for d in cursor.description or ()]
    return QueryResult(columns, _fetch(cursor, psycopg.Error))


# --------------------------------------------------------------------------- both


def _fetch(cursor, driver_error: type[Exception], stopped=lambda exc: None) -> Iterator[tuple]:
    if cursor.description is None:
        return
    try:
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    except driver_error as exc:
        raise stopped(exc) or QueryError(f"query failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
