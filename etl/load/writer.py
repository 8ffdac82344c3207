"""Bulk writes, one writer per database dialect, chosen once per connection.

SQLite: multi-row statements through the driver (values bound by each column's
SQLAlchemy type). PostgreSQL: COPY for appends, Core executemany for updates,
the column's sequence for new paper ids.
"""

from __future__ import annotations

import logging
import operator
import sqlite3
from collections.abc import Callable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..schema import papers

log = logging.getLogger(__name__)

CHUNK_ROWS = 500  # rows per executemany batch / IN (...) list
# Rows per multi-row INSERT or UPDATE on SQLite, within its limit of bound variables: a file's
# papers in one statement, so one full-text index segment (4% of a 1e5 load's main process).
STATEMENT_ROWS = 2000
CONVERTED_VALUES = 4096  # distinct dates or timestamps per column kept converted, within one write


def chunks(items: Sequence, size: int = CHUNK_ROWS) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_writer(conn: Connection) -> BulkWriter:
    """The writer for this connection's database."""
    return PostgresWriter(conn) if conn.dialect.name == "postgresql" else SqliteWriter(conn)


class BulkWriter:
    """Appends, keyed updates and deletes of many rows; each dialect writes them its fastest way."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, table: sa.Table, rows: list[dict]) -> None:
        raise NotImplementedError

    def update(self, table: sa.Table, keys: tuple[str, ...], rows: list[dict]) -> None:
        """Update rows by their ``keys`` columns (each row holds them and the new values of the same columns)."""
        raise NotImplementedError

    def reserve_paper_ids(self, count: int) -> list[int]:
        """New paper_ids, so that papers can be bulk-written without RETURNING."""
        raise NotImplementedError

    def delete_in(self, table: sa.Table, column: str, values: Sequence) -> None:
        for chunk in chunks(sorted(values)):
            self.conn.execute(table.delete().where(table.c[column].in_(chunk)))

    def _logged(self, table: sa.Table, rows: list[dict], how: str) -> None:
        log.debug("writing %d rows into %s (%s)", len(rows), table.name, how)


class PostgresWriter(BulkWriter):
    def append(self, table: sa.Table, rows: list[dict]) -> None:
        if not rows:
            return
        self._logged(table, rows, "COPY")
        names = list(rows[0])
        copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with self.conn.connection.driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])

    def update(self, table: sa.Table, keys: tuple[str, ...], rows: list[dict]) -> None:
        if not rows:
            return
        columns = [name for name in rows[0] if name not in keys]
        statement = (
            table.update()
            .where(*(table.c[key] == sa.bindparam(f"_key_{key}") for key in keys))
            .values(**{name: sa.bindparam(name) for name in columns})
        )
        for chunk in chunks(rows):
            self.conn.execute(statement, [{**row, **{f"_key_{key}": row[key] for key in keys}} for row in chunk])

    def reserve_paper_ids(self, count: int) -> list[int]:
        # Taken from the column's sequence: safe with any other writer.
        query = sa.text("SELECT nextval(pg_get_serial_sequence('papers', 'paper_id')) FROM generate_series(1, :n)")
        return list(self.conn.execute(query, {"n": count}).scalars())


class SqliteWriter(BulkWriter):
    """One statement per chunk of rows rather than one per row (executemany) matters for
    ``papers``: SQLite opens a statement savepoint for each statement that fires its
    full-text triggers, and FTS5 writes its pending terms as a new index segment at
    every savepoint, so a statement per row made a segment per paper and tripled the
    cost of the full-text index (docs/performance.md, round 3). Values go through each
    column's bind processor (dates and timestamps stored exactly as Core stores them),
    without Core's per-row statement machinery, which costs more than SQLite itself."""

    def append(self, table: sa.Table, rows: list[dict]) -> None:
        if not rows:
            return
        self._logged(table, rows, "multi-row INSERT")
        names = list(rows[0])
        head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
        self._multi_row(table, names, rows, lambda values: head + values)

    def update(self, table: sa.Table, keys: tuple[str, ...], rows: list[dict]) -> None:
        """One ``UPDATE … FROM`` (a VALUES list of the new rows) per chunk."""
        if not rows:
            return
        names = list(rows[0])
        assignments = ", ".join(f"{name} = changed.{name}" for name in names if name not in keys)
        matches = " AND ".join(f"{table.name}.{key} = changed.{key}" for key in keys)
        head = f"WITH changed ({', '.join(names)}) AS (VALUES "
        tail = f") UPDATE {table.name} SET {assignments} FROM changed WHERE {matches}"
        self._multi_row(table, names, rows, lambda values: head + values + tail)

    def reserve_paper_ids(self, count: int) -> list[int]:
        # The next ids after the largest: safe because the transaction already holds
        # SQLite's single write lock (it wrote source_files or cleared the tables).
        largest = self.conn.execute(sa.select(sa.func.max(papers.c.paper_id))).scalar() or 0
        return list(range(largest + 1, largest + 1 + count))

    def _multi_row(self, table: sa.Table, names: list[str], rows: list[dict], statement: Callable[[str], str]) -> None:
        """Run ``statement(VALUES list)`` for each chunk of rows, as many rows per statement as
        STATEMENT_ROWS and SQLite's limit on bound variables allow."""
        dialect = self.conn.dialect
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
        # Most columns (text, integers) have no processor: only dates and timestamps are converted.
        converted = [(index, _once_per_value(process)) for index, process in enumerate(processors) if process]
        values_of = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        driver = self.conn.connection.driver_connection
        per_statement = max(1, min(STATEMENT_ROWS, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(names)))
        row_sql = f"({', '.join('?' * len(names))})"
        cursor = driver.cursor()
        try:
            for chunk in chunks(rows, per_statement):
                values: list = []
                for row in chunk:
                    row_values = list(values_of(row))
                    for index, process in converted:
                        if row_values[index] is not None:
                            row_values[index] = process(row_values[index])
                    values += row_values
                cursor.execute(statement(", ".join([row_sql] * len(chunk))), values)
        finally:
            cursor.close()


def _once_per_value(process: Callable) -> Callable:
    """``process`` (a date or timestamp column's bind processor), converting each distinct value once: a
    write repeats few values (a run's timestamp, a page's listing date) in many rows. The key holds
    the time zone too: equal instants in two zones are equal values that SQLite stores differently."""
    done: dict[tuple, object] = {}

    def converted(value):
        key = (value, getattr(value, "tzinfo", None))
        try:
            return done[key]
        except KeyError:
            result = process(value)
            if len(done) < CONVERTED_VALUES:
                done[key] = result
            return result

    return converted
