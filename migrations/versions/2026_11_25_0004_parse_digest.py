"""parse digest: what each loaded file parsed to, so that load --force can skip a file that parses as before

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:15:00

``source_files.parse_digest`` holds a 32-character blake2b digest of everything
the load wrote from the file (its records, the papers they became, its problems,
listing date, layout and path). Rows loaded before this revision have none:
``load --force`` reloads them in full once, which fills it in.

A plain ADD COLUMN (no table rebuild), so the views and the search triggers of
0003 are untouched on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("source_files", sa.Column("parse_digest", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("source_files", "parse_digest")
