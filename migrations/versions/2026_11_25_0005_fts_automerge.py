"""full-text index merges less often while loading (SQLite)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 02:45:00

FTS5 writes the terms of each statement or savepoint as a new small segment of
``papers_fts`` and merges segments together once ``automerge`` of them share a
level (4 by default). The load writes each capture file in its own savepoint,
so it makes many small segments, and with the default a 1e5-paper load spent
about 1.5 s more merging them. At 16 there are half as many levels (log 16
against log 4 of the segment count), so each term is rewritten about half as
often; a search reads at most 15 segments per level instead of 3, which
measured no difference in query time at 1e5 papers (docs/performance.md).

The setting lives in ``papers_fts_config`` (FTS5's own table), so a migration
that recreates ``papers_fts`` must set it again. PostgreSQL has no such
setting: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOADING_AUTOMERGE = 16
FTS5_DEFAULT_AUTOMERGE = 4


def _set_automerge(value: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO papers_fts (papers_fts, rank) VALUES ('automerge', {value})")


def upgrade() -> None:
    _set_automerge(LOADING_AUTOMERGE)


def downgrade() -> None:
    _set_automerge(FTS5_DEFAULT_AUTOMERGE)
