"""Helpers for migrations that change tables the views read (imported by migrations/versions).

SQLite rebuilds a table in Alembic's batch mode by copying it and renaming the
copy, which fails while views read the table: ``views_set_aside`` drops every
view first and creates each again afterwards from its own stored SQL, so the
helper does not depend on which views a database has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


@contextmanager
def views_set_aside() -> Iterator[None]:
    conn = op.get_bind()
    views = []
    if conn.dialect.name == "sqlite":
        views = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'view'")).all()
        for name, _ in views:
            op.execute(f'DROP VIEW "{name}"')
    yield
    for _, sql in views:
        op.execute(sql)
