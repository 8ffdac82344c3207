"""Export one table or view, streaming (read only), in any format of ``etl.output``.

Rows are fetched ``BATCH_ROWS`` at a time (a server-side cursor on PostgreSQL,
SQLite's own row-by-row stepping there), so the whole result is never in memory.
Rows come in a fixed order (the table's primary key, a view's key columns) so two
exports of the same data are identical, on either engine.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import output
from .errors import EtlError
from .views import RELATIONS

BATCH_ROWS = 1000


class UnknownRelationError(EtlError):
    """Not a table or view that papers-etl exports."""


def relation(name: str) -> sa.Table:
    """The table or view called ``name``; UnknownRelationError for anything else."""
    try:
        return RELATIONS[name]
    except KeyError:
        raise UnknownRelationError(
            f"{name!r} is not a papers-etl table or view; export one of: {', '.join(RELATIONS)}"
        ) from None


def stream_rows(engine: Engine, name: str) -> Iterator[sa.Row]:
    """Every row of a table or view, in key order, fetched in batches."""
    table = relation(name)
    with engine.connect() as conn:
        order = [_byte_order(column, conn.dialect.name).asc().nulls_last() for column in table.primary_key.columns]
        result = conn.execution_options(yield_per=BATCH_ROWS).execute(sa.select(table).order_by(*order))
        yield from result


def _byte_order(column: sa.Column, dialect: str):
    """Text keys in byte order on PostgreSQL too (SQLite's order), whatever the database collation."""
    if dialect == "postgresql" and isinstance(column.type, sa.String):
        return column.collate("C")
    return column


def export(engine: Engine, name: str, fmt: str, out: TextIO) -> int:
    """Write a table or view to ``out`` in an ``etl.output`` format (csv, tsv, json, nl, table); return the
    row count."""
    columns = [column.name for column in relation(name).columns]
    return output.write(columns, stream_rows(engine, name), fmt, out)


class OutputError(EtlError):
    """The output file cannot be written."""


@contextmanager
def atomic_output(path: str | Path) -> Iterator[TextIO]:
    """A text file written to ``path``.

    A regular file (new, or reached through a symbolic link) is replaced only once it has
    been written completely, and keeps the mode (and, where allowed, the owner) of the file it
    replaces; a link stays a link. A FIFO, a device or a socket is written in place: renaming
    over it would replace ``/dev/null`` or a pipe a reader waits on with a regular file.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with _writable(path):
            out = target.open("w", encoding="utf-8", newline="")
        with out:
            yield out
        return
    real = Path(os.path.realpath(target))
    if not real.parent.is_dir():
        raise OutputError(f"{path}: folder {real.parent} does not exist; create it or fix the path")
    existing = real.stat() if real.exists() else None
    partial = real.with_name(f".{real.name}.partial-{os.getpid()}")
    try:
        with _writable(path):
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out, _writable(path):  # a full disk…
            yield out
        if existing is not None:
            os.chmod(partial, stat.S_IMODE(existing.st_mode))
            with suppress(OSError):  # only root may give a file to another owner
                os.chown(partial, existing.st_uid, existing.st_gid)
        with _writable(path):
            partial.replace(real)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _writable(path: str | Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot be written ({exc.strerror or exc}); check the path and its permissions"
        ) from None
