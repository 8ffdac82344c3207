"""One output layer for every command that prints rows (query, search, runs, runs show, export).

Formats, as sqlite-utils names them: ``table`` (aligned, for people: the default on
a terminal, at the terminal's width), ``csv``, ``tsv``, ``json`` (one array of
objects) and ``nl`` (newline-delimited JSON, one object per line). Every format
streams: rows are written as they come.

Values are written the same way on both engines: dates as ``YYYY-MM-DD``,
timestamps as ISO 8601 in UTC with the offset (``2026-12-02T03:37:31+00:00``;
SQLite stores them as naive UTC text, PostgreSQL returns them in the session's
time zone), NULL as an empty CSV/TSV field, JSON ``null``, or ``NULL`` in a table.
Only the table passes text through ``terminal.printable``: the data formats keep
it exactly, for the programs that read them.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import functools
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

import click

from .dictionary import RELATIONS
from .terminal import printable

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "csv", "tsv", "json", "nl")
DATA_FORMATS = FORMATS[1:]

# Columns that hold timestamps, by name (a query's result has no types on SQLite, only names).
TIMESTAMP_COLUMNS = frozenset(c.name for r in RELATIONS for c in r.columns if c.type.startswith("TIMESTAMP"))
_SQLITE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def format_options(default: str | None = None):
    """The format flags (--table, --csv, --tsv, --json, --nl) of a command, passed to it as ``fmt``.

    ``default`` None: a table on a terminal, TSV otherwise (one row per line, easy to cut and grep).
    """

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            chosen = [name for name in FORMATS if kwargs.pop(f"as_{name}")]
            if len(chosen) > 1:
                raise click.UsageError(f"choose one output format, not {' and '.join('--' + c for c in chosen)}")
            kwargs["fmt"] = chosen[0] if chosen else (default or default_format())
            return command(*args, **kwargs)

        for name, help_text in reversed(
            [
                ("table", "Aligned table (the default on a terminal)."),
                ("csv", "CSV with a header row."),
                ("tsv", "Tab-separated values with a header row (the default off a terminal)."),
                ("json", "One JSON array of objects."),
                ("nl", "Newline-delimited JSON: one object per line."),
            ]
        ):
            wrapper = click.option(f"--{name}", f"as_{name}", is_flag=True, help=help_text)(wrapper)
        return wrapper

    return decorate


def default_format(stream: TextIO | None = None) -> str:
    stream = stream or sys.stdout
    return "table" if getattr(stream, "isatty", lambda: False)() else "tsv"


def utc_timestamp(value: dt.datetime) -> dt.datetime:
    """Aware and in UTC: a naive value is UTC already (how the load stores it on SQLite)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def normalise(column: str, value):
    """A value as every format shows it: timestamps made aware UTC datetimes (also SQLite's text ones)."""
    if isinstance(value, dt.datetime):
        return utc_timestamp(value)
    if isinstance(value, str) and column in TIMESTAMP_COLUMNS and _SQLITE_TIMESTAMP.match(value):
        return utc_timestamp(dt.datetime.fromisoformat(value))
    return value


def text_value(value, *, seconds: bool = False) -> str:
    """A value as CSV/TSV/table text (NULL is handled by the caller)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds") if seconds else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_value(value):
    if isinstance(value, dt.date | dt.datetime):
        return text_value(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def write(
    columns: Sequence[str],
    rows: Iterable[Sequence],
    fmt: str,
    out: TextIO | None = None,
    *,
    max_rows: int | None = None,
) -> int:
    """Write ``rows`` in ``fmt`` to ``out`` (standard output); returns how many rows were written.

    ``max_rows`` caps the table only (the data formats write every row).
    """
    out = out if out is not None else sys.stdout
    columns = list(columns)
    normalised = ([normalise(c, v) for c, v in zip(columns, row, strict=True)] for row in rows)
    writer = {"table": _table, "csv": _delimited, "tsv": _delimited, "json": _json, "nl": _nl}[fmt]
    return writer(columns, normalised, out, fmt=fmt, max_rows=max_rows)


def _delimited(columns, rows, out, *, fmt, max_rows) -> int:
    writer = csv.writer(out, lineterminator="\n", delimiter="\t" if fmt == "tsv" else ",")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else text_value(v) for v in row])
        count += 1
    return count


def _records(columns, rows) -> Iterable[dict]:
    for row in rows:
        yield {name: json_value(value) for name, value in zip(columns, row, strict=True)}


def _json(columns, rows, out, *, fmt, max_rows) -> int:
    count = 0
    out.write("[")
    for record in _records(columns, rows):
        out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _nl(columns, rows, out, *, fmt, max_rows) -> int:
    count = 0
    for record in _records(columns, rows):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _table(columns, rows, out, *, fmt, max_rows) -> int:
    from rich.table import Table  # rich is imported when a table is printed: it slows every command's start

    table = Table(*(printable(c) for c in columns))  # the console reads no markup: text is shown as it is
    count = 0
    for row in rows:
        if max_rows is not None and count >= max_rows:
            break
        table.add_row(*("NULL" if v is None else printable(text_value(v, seconds=True)) for v in row))
        count += 1
    console(out).print(table)
    return count


def console(out: TextIO) -> Console:
    """A console on ``out`` at the terminal's real width (COLUMNS, or 80, off a terminal)."""
    from rich.console import Console

    return Console(file=out, highlight=False, markup=False, emoji=False, soft_wrap=False)
