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
"""

from __future__ import annotations

import re
import sqlite3
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
def read_only_connection(url: str | None) -> Iterator[Executor]:
    """An ``execute(sql, params) -> QueryResult`` function on a connection that cannot write."""
    parsed = db.normalise_url(db.resolve_url(url))
    opener = _sqlite_read_only if parsed.get_backend_name() == "sqlite" else _postgres_read_only
    with opener(parsed) as execute:
        yield execute


@contextmanager
def run_query(url: str | None, sql: str, params: dict[str, str] | None = None) -> Iterator[QueryResult]:
    """Check and run one reading statement, its ``:name`` parameters bound to ``params``; its rows can be
    read while the context is open."""
    check_reads(sql)
    params = params or {}
    check_parameters(sql, params)
    with read_only_connection(url) as execute:
        yield execute(sql, params)


# --------------------------------------------------------------------------- SQLite


@contextmanager
def _sqlite_read_only(url: URL) -> Iterator[Executor]:
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
    try:
        yield lambda sql, params=None: _sqlite_execute(conn, sql, params or {})
    finally:
        conn.close()


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


def _sqlite_execute(conn: sqlite3.Connection, sql: str, params: dict[str, str]) -> QueryResult:
    try:
        cursor = conn.execute(sql, params) if params else conn.execute(sql)
    except sqlite3.ProgrammingError as exc:
        raise QueryRefused(f"query refused: {exc} (run one statement)") from None
    except sqlite3.DatabaseError as exc:
        if "not authorized" in str(exc) or "readonly" in str(exc):
            raise QueryRefused(f"query refused: {exc}; papers-etl query never writes") from None
        raise QueryError(f"query failed: {_first_line(exc)}") from None
    columns = [d[0] for d in cursor.description or ()]
    return QueryResult(columns, _fetch(cursor, sqlite3.Error))


# --------------------------------------------------------------------------- PostgreSQL


@contextmanager
def _postgres_read_only(url: URL) -> Iterator[Executor]:
    engine = db.create_engine(url.render_as_string(hide_password=False))
    try:
        with db.database_errors(url):
            raw = engine.raw_connection()
        conn: psycopg.Connection = raw.driver_connection
        try:
            conn.read_only = True  # every transaction on it starts with BEGIN READ ONLY
            yield lambda sql, params=None: _postgres_execute(conn, sql, params or {})
        finally:
            conn.rollback()
            conn.read_only = False
            raw.close()
    finally:
        engine.dispose()


def _postgres_execute(conn: psycopg.Connection, sql: str, params: dict[str, str]) -> QueryResult:
    import psycopg  # here, not at start-up: a SQLite user or a load never needs it

    if params:
        sql = _pyformat(sql)
    cursor = conn.cursor()
    try:
        # prepare=True sends it through the extended protocol, which takes one statement only.
        cursor.execute(sql, params or None, prepare=True)
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


def _fetch(cursor, driver_error: type[Exception]) -> Iterator[tuple]:
    if cursor.description is None:
        return
    try:
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    except driver_error as exc:
        raise QueryError(f"query failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
