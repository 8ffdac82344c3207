"""One benchmark measurement of already-parsed rows, run in its own process by bench/run.py.

    python bench/workers.py KIND ROWS_PICKLE TARGET

KIND is floor-sqlite, floor-postgres, sqlite-utils or dlt; TARGET is a SQLite
file or, for floor-postgres, a libpq connection string. The rows are read and
converted before the clock starts: only the load is timed. It prints one JSON
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


def floor_sqlite(rows: dict, target: str) -> Callable[[], None]:
    """Bare sqlite3 executemany into the Alembic-made schema, one transaction, papers-etl's pragmas."""
    tables = {name: [tuple(map(_sqlite_value, row)) for row in rows[name]] for name in TABLE_COLUMNS}
    run_row = tuple(map(_sqlite_value, RUN_ROW))
    return lambda: _floor_sqlite(tables, run_row, target)


def _floor_sqlite(tables: dict[str, list[tuple]], run_row: tuple, target: str) -> None:
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    conn.execute(_insert_sql("etl_runs", ("run_id", "started_at", "status")), run_row)
    for name, columns in TABLE_COLUMNS.items():
        conn.executemany(_insert_sql(name, columns), tables[name])
    conn.execute("COMMIT")
    conn.close()


def floor_postgres(rows: dict, target: str) -> Callable[[], None]:
    """COPY of the rows into the Alembic-made schema, one transaction."""
    return lambda: _floor_postgres(rows, target)


def _floor_postgres(rows: dict, target: str) -> None:
    import psycopg

    with psycopg.connect(target) as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.execute(_insert_sql("etl_runs", ("run_id", "started_at", "status"), "%s"), RUN_ROW)
        for name, columns in TABLE_COLUMNS.items():
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows[name]:
                    copy.write_row(row)


def sqlite_utils_insert(rows: dict, target: str) -> Callable[[], None]:
    """sqlite-utils insert_all with title_key as primary key; a repeated paper is ignored."""
    import sqlite_utils

    def load() -> None:
        db = sqlite_utils.Database(target)
        db["papers"].insert_all(rows["records"], pk="title_key", ignore=True)
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
