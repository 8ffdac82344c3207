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
# A shorter statement is padded with rows of NULLs (which it drops) up to the next of a few sizes, so that
# a run prepares a few statements per table: the driver keeps up to 128 prepared statements, about
# 1.7 MB each for 1,000 rows of 15 columns, and one per row count cost 35 MB at 1e5 (docs/performance.md).
SMALLEST_STATEMENT = 16
_GIVEN = "_given"  # the column of a padded statement's rows that tells a given row (1) from padding (NULL)
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
        columns = ", ".join(names)
        body = f" INSERT INTO {table.name} ({columns}) SELECT {columns} FROM given WHERE {_GIVEN} IS NOT NULL"
        self._multi_row(table, names, rows, body)

    def update(self, table: sa.Table, keys: tuple[str, ...], rows: list[dict]) -> None:
        """One ``UPDATE … FROM`` (a VALUES list of the new rows) per chunk."""
        if not rows:
            return
        names = list(rows[0])
        assignments = ", ".join(f"{name} = given.{name}" for name in names if name not in keys)
        matches = " AND ".join(f"{table.name}.{key} = given.{key}" for key in keys)
        body = f" UPDATE {table.name} SET {assignments} FROM given WHERE given.{_GIVEN} IS NOT NULL AND {matches}"
        self._multi_row(table, names, rows, body)

    def reserve_paper_ids(self, count: int) -> list[int]:
        # The next ids after the largest: safe because the transaction already holds
        # SQLite's single write lock (it wrote source_files or cleared the tables).
        largest = self.conn.execute(sa.select(sa.func.max(papers.c.paper_id))).scalar() or 0
        return list(range(largest + 1, largest + 1 + count))

    def _multi_row(self, table: sa.Table, names: list[str], rows: list[dict], body: str) -> None:
        """Run ``WITH given (…names) AS (VALUES …) body`` for each chunk of rows, as many rows per statement
        as STATEMENT_ROWS and SQLite's limit on bound variables allow; ``body`` reads the rows whose
        ``_given`` column is not NULL (the padding's is)."""
        dialect = self.conn.dialect
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
        # Most columns (text, integers) have no processor: only dates and timestamps are converted.
        # Their indexes count from 1: a row's values follow the _given column.
        converted = [(index, _once_per_value(process)) for index, process in enumerate(processors, 1) if process]
        values_of = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        driver = self.conn.connection.driver_connection
        width = len(names) + 1  # and the _given column
        most = max(1, min(STATEMENT_ROWS, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
        head = f"WITH given ({_GIVEN}, {', '.join(names)}) AS (VALUES "
        row_sql = f"({', '.join('?' * width)})"
        cursor = driver.cursor()
        try:
            for chunk in chunks(rows, most):
                values: list = []
                for row in chunk:
                    row_values = [True, *values_of(row)]
                    for index, process in converted:
                        if row_values[index] is not None:
                            row_values[index] = process(row_values[index])
                    values += row_values
                size = _statement_size(len(chunk), most)
                values += [None] * (width * (size - len(chunk)))
                cursor.execute(head + ", ".join([row_sql] * size) + ")" + body, values)
        finally:
            cursor.close()


def _statement_size(rows: int, most: int) -> int:
    """The rows of the statement that writes ``rows`` rows: the next power of two from SMALLEST_STATEMENT,
    or ``most``."""
    size = SMALLEST_STATEMENT
    while size < rows:
        size *= 2
    return min(size, most)


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
