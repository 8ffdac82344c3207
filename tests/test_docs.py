"""Docs that cannot drift: docs/schema.md matches the tables, the views and the search objects."""

from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import PROJECT_ROOT

from etl import search
from etl.schema import metadata
from etl.views import VIEWS

SCHEMA_DOC = PROJECT_ROOT / "docs" / "schema.md"


def documented_rows() -> dict[str, dict[str, list[str]]]:
    """{table or view: {column: [type, meaning, example]}} from the '## name' headings (a trailing
    '(PostgreSQL only)' and the like allowed) and the rows of their tables."""
    tables: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in SCHEMA_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\w+)( \(.*\))?$", line)
        if heading:
            current = tables.setdefault(heading[1], {})
        row = re.match(r"^\| `(\w+)` \|(.*)\|$", line)
        if row and current is not None:
            current[row[1]] = [cell.strip() for cell in re.split(r"(?<!\\)\|", row[2])]
    return tables


def documented_columns() -> dict[str, set[str]]:
    return {name: set(rows) for name, rows in documented_rows().items()}


def expected_columns() -> dict[str, set[str]]:
    """Tables (etl.schema), views (etl.views) and the search objects that are in neither."""
    expected = {table.name: {c.name for c in table.columns} for table in metadata.sorted_tables}
    expected |= {name: {c.name for c in view.columns} for name, view in VIEWS.items()}
    expected[search.SQLITE_TABLE] = set(search.SQLITE_COLUMNS)
    expected["papers"] = expected["papers"] | {search.POSTGRES_COLUMN}
    return expected


def test_every_table_view_and_column_is_documented_and_nothing_else():
    assert documented_columns() == expected_columns()


def test_every_documented_column_has_a_type_a_meaning_and_an_example():
    for name, rows in documented_rows().items():
        for column, cells in rows.items():
            assert len(cells) == 3 and all(cells), f"{name}.{column}: want | type | meaning | example |, got {cells}"


def test_the_dictionary_matches_the_live_database_on_each_engine(engine):
    inspector = sa.inspect(engine)
    names = [n for n in inspector.get_table_names() if n != "alembic_version" and n not in search.SQLITE_SHADOW_TABLES]
    live = {name: {c["name"] for c in inspector.get_columns(name)} for name in [*names, *inspector.get_view_names()]}

    expected = documented_columns()
    if engine.dialect.name == "sqlite":
        expected["papers"] = expected["papers"] - {search.POSTGRES_COLUMN}
    else:
        del expected[search.SQLITE_TABLE]
    assert live == expected


def test_gitignore_covers_a_database_and_every_companion_file():
    import fnmatch

    patterns = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for name in ("papers.db", "papers.db-wal", "papers.db-shm", "papers.db-journal", "papers.db.lock"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
