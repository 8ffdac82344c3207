"""Engines, URLs and schema revisions.

The database URL comes from ``--db``, else ``PAPERS_ETL_DATABASE_URL``, else
``sqlite:///papers.db``. Alembic (``migrations/``) owns the schema; the helpers
here run it programmatically so ``papers-etl db upgrade`` and ``alembic upgrade
head`` do the same thing.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .errors import ConfigError, DatabaseBusy, DatabaseError, SchemaRevisionError
from .schema import SCHEMA_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where a migration runs, not at start-up: a scheduled load
# that finds nothing new must stay cheap (it only compares revision strings).

ENV_VAR = "PAPERS_ETL_DATABASE_URL"
DEFAULT_URL = "sqlite:///papers.db"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQLITE_BUSY_TIMEOUT_S = 30


def resolve_url(url: str | None = None) -> str:
    """The URL to use: the argument, else the environment variable, else the default."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


# Query parameters of a URL that hold a credential (password=, sslpassword=, ...): masked in messages.
SECRET_PARAMETER = re.compile(r"pass|secret|token", re.IGNORECASE)
ENCODING_HINT = (
    "percent-encode special characters in the user name and password: @ as %40, : as %3A, / as %2F, "
    "? as %3F, # as %23, % as %25 (python3 -c 'import sys, urllib.parse; "
    "print(urllib.parse.quote(sys.argv[1], safe=\"\"))' 'PASSWORD')"
)
_secrets: set[str] = set()  # credentials of the URLs seen by this process, never printed or stored


def safe_url(url: str | URL) -> str:
    """The URL with every credential masked (the password, wherever it is, and query parameters
    such as ``password`` or ``sslpassword``), for messages, logs and the run record."""
    if isinstance(url, URL):
        text = url.render_as_string(hide_password=False)
    else:
        try:
            make_url(url)
        except ArgumentError:
            return "<unparseable database URL>"  # it may hold a password anywhere
        text = str(url)
    scheme, _, rest = text.partition("://")
    if not scheme.startswith("sqlite"):
        # Everything before the last @ is the user and password, even when the password holds an
        # unencoded @, / or ? (the URL is then refused, and its message must not show the tail).
        userinfo, at, host = rest.rpartition("@")
        if at:
            user, colon, _ = userinfo.partition(":")
            rest = f"{user}:***@{host}" if colon else f"{user}@{host}"
    rest = re.sub(r"([?&][^=&]*=)([^&]*)", _mask_parameter, rest)
    return redact(f"{scheme}://{rest}")


def _mask_parameter(match: re.Match) -> str:
    return match[1] + "***" if SECRET_PARAMETER.search(match[1]) else match[0]


def redact(text: str) -> str:
    """``text`` with every credential of the URLs this process has seen replaced by ***."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _remember_secrets(url: URL) -> None:
    values = [url.password or ""]
    values += [v for key, value in url.query.items() if SECRET_PARAMETER.search(key) for v in _as_list(value)]
    for value in map(str, values):
        if len(value) >= 3:  # shorter ones would mask ordinary words; they are masked in URLs all the same
            _secrets.update({value, quote(value, safe="")})


def _as_list(value) -> list:
    return list(value) if isinstance(value, tuple) else [value]


def normalise_url(url: str) -> URL:
    """Parse a URL; plain ``postgresql://`` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{safe_url(url)} is not a database URL; use sqlite:///path.db or postgresql+psycopg://user@host/db"
        ) from None
    _remember_secrets(parsed)
    if parsed.host and ("@" in parsed.host or "/" in parsed.host):
        raise ConfigError(f"{safe_url(url)}: the user name or password holds a special character; {ENCODING_HINT}")
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{safe_url(parsed)}: only SQLite and PostgreSQL are supported")
    return parsed


def create_engine(
    url: str | None = None, *, read_only: bool = False, must_exist: bool = False, busy_seconds: float | None = None
) -> Engine:
    """An engine for ``url`` (resolved as in ``resolve_url``) with papers-etl's settings.

    ``read_only``: for commands that only read. The database is never created or changed:
    SQLite opens the file read-only (``mode=ro``, ``query_only``; a missing file is a
    ConfigError) and leaves its journal mode alone; PostgreSQL starts every transaction READ
    ONLY. ``must_exist``: a missing SQLite file is a ConfigError (a command that changes a
    database papers-etl made, never a new one). ``busy_seconds``: how long SQLite waits for
    another program's write lock (``load --wait``; SQLITE_BUSY_TIMEOUT_S otherwise).
    """
    parsed = normalise_url(resolve_url(url))
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, read_only, must_exist or read_only, busy_seconds)
        options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        return sa.create_engine(parsed, connect_args={"connect_timeout": 10, **options})
    except NoSuchModuleError as exc:
        raise ConfigError(f"{safe_url(parsed)}: no driver for this URL ({exc})") from None


def _sqlite_engine(url: URL, read_only: bool, must_exist: bool, busy_seconds: float | None) -> Engine:
    database = url.database
    on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
    if on_disk:
        path = Path(database).expanduser()
        parent = path.resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"{safe_url(url)}: folder {parent} does not exist; create it or fix the path")
        if must_exist and not path.is_file():
            raise ConfigError(
                f"{safe_url(url)}: no database file at {path}; check the path (`papers-etl load PATH...` creates one)"
            )
    timeout = SQLITE_BUSY_TIMEOUT_S if busy_seconds is None else busy_seconds
    if read_only and on_disk:
        uri = f"file:{quote(str(Path(database).expanduser().resolve()))}?mode=ro"
        engine = sa.create_engine(
            url, creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        )
    else:
        engine = sa.create_engine(url, connect_args={"timeout": timeout})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
        # so that a run's transaction, and each file's savepoint in it, is real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")  # reading commands leave the file's bytes as they are
        elif on_disk:
            cursor.execute("PRAGMA journal_mode = WAL")  # readers (dashboards) never block the load
            # In WAL mode NORMAL cannot corrupt the database or lose a commit to a crashed
            # process; only a power cut may drop the last commits. It saves an fsync per file.
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


def database_exists(url: str | None) -> bool:
    """False only for a SQLite URL whose file is missing (PostgreSQL databases are assumed to exist)."""
    parsed = normalise_url(resolve_url(url))
    path = sqlite_path(parsed)
    return path is None or path.is_file()


SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for an in-memory database)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database).expanduser()


def database_files(engine: Engine) -> tuple[Path, ...]:
    """A SQLite database's file and its companions (-wal, -shm, -journal, and the .lock of
    earlier papers-etl versions): never read as captures. Nothing for PostgreSQL."""
    path = sqlite_path(engine.url)
    if path is None:
        return ()
    real = Path(os.path.realpath(path))
    return tuple(
        p.with_name(p.name + suffix) if suffix else p
        for p in {path, real}
        for suffix in ("", *SQLITE_COMPANION_SUFFIXES)
    )


@contextmanager
def database_errors(url: str | URL) -> Iterator[None]:
    """Turn driver errors into DatabaseError with a one-line, password-free message."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise _error_class(exc)(_explained(url, exc)) from None
    except Exception as exc:
        # The bulk paths (sqlite3 multi-row INSERTs, psycopg COPY) talk to the driver directly.
        if not _is_driver_error(exc):
            raise
        raise _error_class(exc)(_explained(url, exc)) from None


def _error_class(exc: BaseException) -> type[DatabaseError]:
    chain = _driver_errors(exc)
    root = chain[-1] if chain else exc
    busy = isinstance(root, sqlite3.OperationalError) and getattr(root, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )
    return DatabaseBusy if busy else DatabaseError


def _explained(url: str | URL, exc: BaseException) -> str:
    """One line: the database, what went wrong at the root, and what to do."""
    where = safe_url(url)
    chain = _driver_errors(exc)
    full = next((error for error in chain if _is_disk_full(error)), None)
    if full is not None:
        return (
            f"{where}: the disk is full ({_first_line(full)}); free space, then run the same command again "
            "(files committed before stay loaded)"
        )
    # A failed statement can make the driver end the transaction, and undoing the file's savepoint then
    # fails too ("no such savepoint"): the first error is the one that says what happened.
    root = chain[-1] if chain else exc
    reason = redact(_first_line(root))
    if _driver_module(root) == "sqlite3":
        if "locked" in reason or "busy" in reason:
            return (
                f"{where}: {reason}: another program holds its write lock; let it finish, or give load --wait SECONDS"
            )
        if isinstance(root, sqlite3.OperationalError) and "unable to open" in reason:
            return f"{where}: {reason}; check the path and its permissions"
        return f"{where}: {reason}"
    if isinstance(exc, sa.exc.OperationalError) or _is_connection_error(root):
        return f"{where}: {reason}; check that the server is up and the URL is right"
    return f"{where}: {reason}"


def _driver_errors(exc: BaseException) -> list[BaseException]:
    """The driver errors behind ``exc``, latest first, following what each error happened during."""
    found: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        candidate = getattr(current, "orig", None) if isinstance(current, sa.exc.DBAPIError) else current
        if candidate is not None and _is_driver_error(candidate) and id(candidate) not in {id(e) for e in found}:
            found.append(candidate)
        current = current.__cause__ or current.__context__
    return found


def _driver_module(exc: BaseException) -> str:
    return type(exc).__module__.split(".", 1)[0]


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return getattr(exc, "sqlstate", None) == "53100"  # PostgreSQL disk_full


def _is_connection_error(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))  # connection exceptions, server shutdown


def _is_driver_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # not imported: cannot be a psycopg error (and stays unimported)
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _first_line(exc: BaseException | None) -> str:
    text = str(exc or "unknown database error").strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- migrations


def alembic_config(url: str | URL | None = None) -> Config:
    """The project's Alembic configuration, pointed at ``url``."""
    from alembic.config import Config

    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = url
    return config


def migrations_dir() -> Path:
    """migrations/ of a source checkout, else the copy installed as etl.migrations."""
    checkout = PROJECT_ROOT / "migrations"
    if (checkout / "env.py").exists():
        return checkout
    return Path(str(resources.files("etl.migrations")))


def head_revision() -> str:
    """The revision this papers-etl's tables are (``schema.SCHEMA_REVISION``, tested to be Alembic's head)."""
    return SCHEMA_REVISION


def migrations_head() -> str:
    """The head revision of migrations/, read by Alembic."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision_order() -> list[str]:
    """The revisions of migrations/, oldest first (they form one line)."""
    from alembic.script import ScriptDirectory

    return [rev.revision for rev in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The database's revision (Alembic's ``alembic_version`` row), None for a database without one."""
    with database_errors(engine.url), engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (head by default)."""
    from alembic import command

    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, alembic_command, revision: str) -> None:
    """Run an Alembic command on one of our connections, in one transaction."""
    config = alembic_config(engine.url)
    with database_errors(engine.url), migration_connection(engine) as conn, conn.begin():
        config.attributes["connection"] = conn
        alembic_command(config, revision)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for migrations. On SQLite, foreign keys are off while batch
    migrations copy and rename tables (SQLite's documented procedure), and
    checked once they are done."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            yield conn
            return
        sqlite_connection = conn.connection.driver_connection  # outside any transaction: the pragma needs that
        sqlite_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            yield conn
        finally:
            sqlite_connection.execute("PRAGMA foreign_keys = ON")
        broken = sqlite_connection.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise DatabaseError(f"{safe_url(engine.url)}: a migration left {len(broken)} broken foreign keys")


def ensure_schema(engine: Engine) -> None:
    """Bring a new, empty database to head; refuse one at another revision.

    A database that papers-etl did not create (tables but no revision) is refused
    too, rather than guessed at.
    """
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if current is None:
        with database_errors(engine.url):
            tables = sa.inspect(engine).get_table_names()
        if tables:
            raise SchemaRevisionError(
                f"{safe_url(engine.url)} has tables but no papers-etl schema revision; use an empty database"
            )
        upgrade(engine)
        return
    if current in known_revisions():
        raise SchemaRevisionError(
            f"{safe_url(engine.url)} is at schema revision {current}, this papers-etl needs {head}; "
            "run `papers-etl db upgrade` first"
        )
    raise SchemaRevisionError(
        f"{safe_url(engine.url)} is at schema revision {current}, unknown to this papers-etl (newer?); "
        "upgrade papers-etl"
    )
