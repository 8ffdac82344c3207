"""One benchmark measurement of already-parsed rows, run in its own process by bench/run.py.

    python bench/workers.py KIND ROWS_PICKLE TARGET

KIND is floor-sqlite, floor-postgres, sqlite-utils or dlt; TARGET is a SQLite
file or, for floor-postgres, a libpq connection string. For every KIND but dlt,
TARGET must hold papers-etl's schema (``papers-etl db upgrade``): the rows go into
the same tables with the same keys, and the full-text index is built once after
them (issue #17). The rows are read and converted, and the schema's full-text
triggers (or search column) dropped, before the clock starts: only the load is timed. It prints one JSON
line, {"seconds": ..., "cpu_seconds": ...}; the parent reads the process's peak RSS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from generate import LINK_COLUMNS, LISTING_COLUMNS, PAPER_COLUMNS, RUN_ID, SOURCE_FILE_COLUMNS

TABLE_COLUMNS = {
    "source_files": SOURCE_FILE_COLUMNS,
    "papers": PAPER_COLUMNS,
    "paper_links": LINK_COLUMNS,
    "listings": LISTING_COLUMNS,
}  # in foreign-key order
RUN_ROW = (RUN_ID, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "succeeded")


def _sqlite_value(value):
    """As SQLAlchemy stores them in SQLite: dates and times as ISO text."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _insert_sql(table: str, columns: tuple[str, ...], placeholder: str = "?") -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))})"


def _sqlite_connect(target: str) -> sqlite3.Connection:
    """papers-etl's pragmas (etl/db.py): foreign keys checked, WAL, synchronous NORMAL."""
    conn = sqlite3.connect(target, isolation_level=None)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _sqlite_search_index(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """The FTS5 tables of the Alembic-made schema and the triggers on ``papers`` that keep them."""
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
    )]  # fmt: skip
    triggers = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'papers'"
    ) if any(table in _trigger_sql(conn, name) for table in tables)]  # fmt: skip
    return tables, triggers


def _trigger_sql(conn: sqlite3.Connection, name: str) -> str:
    return conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()[0]


def _drop_search_triggers(target: str) -> list[str]:
    """Drop the row triggers of the full-text index (the index is built once, after the load); its tables."""
    conn = _sqlite_connect(target)
    tables, triggers = _sqlite_search_index(conn)
    if not tables:
        raise SystemExit(f"{target}: no FTS5 table in the schema; run papers-etl db upgrade first")
    for trigger in triggers:
        conn.execute(f'DROP TRIGGER "{trigger}"')
    conn.close()
    return tables


def floor_sqlite(rows: dict, target: str) -> Callable[[], None]:
    """Bare sqlite3 executemany into the Alembic-made schema (its full-text triggers dropped), one
    transaction, papers-etl's pragmas; then the full-text index built by one 'rebuild' statement."""
    tables = {name: [tuple(map(_sqlite_value, row)) for row in rows[name]] for name in TABLE_COLUMNS}
    run_row = tuple(map(_sqlite_value, RUN_ROW))
    search_tables = _drop_search_triggers(target)
    return lambda: _floor_sqlite(tables, run_row, target, search_tables)


def _floor_sqlite(tables: dict[str, list[tuple]], run_row: tuple, target: str, search_tables: list[str]) -> None:
    conn = _sqlite_connect(target)
    conn.execute("BEGIN")
    conn.execute(_insert_sql("etl_runs", ("run_id", "started_at", "status")), run_row)
    for name, columns in TABLE_COLUMNS.items():
        conn.executemany(_insert_sql(name, columns), tables[name])
    for search in search_tables:
        conn.execute(f"INSERT INTO {search} ({search}) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.close()


def floor_postgres(rows: dict, target: str) -> Callable[[], None]:
    """COPY of the rows into the Alembic-made schema without its search column, one transaction;
    then the search column (generated, stored) and its GIN index added, as the migrations define them."""
    search = _drop_search_column(target)
    return lambda: _floor_postgres(rows, target, search)


def _drop_search_column(target: str) -> list[str]:
    """Drop the generated columns of ``papers`` (the search vector) and their indexes; the statements
    that make them again, read from the catalogue so that they stay those of the migrations."""
    import psycopg

    with psycopg.connect(target, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'papers'::regclass AND a.attgenerated = 's'"
        ).fetchall()
        if not columns:
            raise SystemExit("papers has no generated search column; run papers-etl db upgrade first")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'papers' AND indexdef ~ %s",
            ("|".join(name for name, _, _ in columns),),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, _, _ in columns:
            conn.execute(f'ALTER TABLE papers DROP COLUMN "{name}"')
    add = [f'ALTER TABLE papers ADD COLUMN "{name}" {kind} GENERATED ALWAYS AS ({expression}) STORED'
           for name, kind, expression in columns]  # fmt: skip
    return add + [definition for _, definition in indexes]


def _floor_postgres(rows: dict, target: str, search: list[str]) -> None:
    import psycopg

    with psycopg.connect(target) as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.execute(_insert_sql("etl_runs", ("run_id", "started_at", "status"), "%s"), RUN_ROW)
        for name, columns in TABLE_COLUMNS.items():
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows[name]:
                    copy.write_row(row)
        for statement in search:
            cursor.execute(statement)


def sqlite_utils_insert(rows: dict, target: str) -> Callable[[], None]:
    """sqlite-utils insert_all of the same rows into the same (Alembic-made) tables, with papers-etl's
    pragmas; then enable_fts on title and abstract (populated, no triggers), in place of the schema's own
    full-text table and its triggers, which are dropped before the clock starts."""
    import sqlite_utils

    tables = {
        name: [dict(zip(columns, map(_sqlite_value, row), strict=True)) for row in rows[name]]
        for name, columns in TABLE_COLUMNS.items()
    }
    run_row = dict(zip(("run_id", "started_at", "status"), map(_sqlite_value, RUN_ROW), strict=True))
    for search in _drop_search_triggers(target):
        conn = _sqlite_connect(target)
        conn.execute(f"DROP TABLE {search}")
        conn.close()

    def load() -> None:
        db = sqlite_utils.Database(target)
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
            db.execute(f"PRAGMA {pragma}")
        db["etl_runs"].insert(run_row)
        for name in TABLE_COLUMNS:
            db[name].insert_all(tables[name])
        db["papers"].enable_fts(["title", "abstract"], tokenize="porter unicode61 remove_diacritics 2")
        db.close()

    return load


def dlt_merge(rows: dict, target: str) -> Callable[[], None]:
    """dlt, write_disposition merge on title_key, into SQLite through dlt's sqlalchemy destination."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt

    def load() -> None:
        pipeline = dlt.pipeline(
            pipeline_name="bench",
            destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{target}"),
            dataset_name="main",
            pipelines_dir=str(Path(target).parent / (Path(target).stem + "-dlt")),
        )
        pipeline.run(rows["records"], table_name="papers", write_disposition="merge", primary_key="title_key")

    return load


WORKERS = {
    "floor-sqlite": floor_sqlite,
    "floor-postgres": floor_postgres,
    "sqlite-utils": sqlite_utils_insert,
    "dlt": dlt_merge,
}


def main(argv: list[str]) -> int:
    kind, rows_path, target = argv
    with open(rows_path, "rb") as handle:
        rows = pickle.load(handle)
    load = WORKERS[kind](rows, target)  # prepares the rows; only load() is timed
    started, cpu_started = time.perf_counter(), time.process_time()
    load()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
