"""Docs that cannot drift: the data contract in docs/schema.md matches the schema."""

from __future__ import annotations

import re

from conftest import PROJECT_ROOT

from etl.schema import metadata

SCHEMA_DOC = PROJECT_ROOT / "docs" / "schema.md"


def documented_columns() -> dict[str, set[str]]:
    """{table: {column, ...}} from the '## table' headings and the first cell of their tables."""
    tables: dict[str, set[str]] = {}
    current = None
    for line in SCHEMA_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\w+)$", line)
        if heading:
            current = tables.setdefault(heading[1], set())
        cell = re.match(r"^\| `(\w+)` \|", line)
        if cell and current is not None:
            current.add(cell[1])
    return tables


def test_every_table_and_column_is_documented_and_nothing_else():
    in_schema = {table.name: {c.name for c in table.columns} for table in metadata.sorted_tables}
    assert documented_columns() == in_schema
