"""arXiv identity and card values: papers.arxiv_id, what each card showed per sighting, where a link was found

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00

- ``papers.arxiv_id``: unique where not NULL (a unique index, so no table rebuild).
- ``listings``: ``upvotes``, ``arxiv_id`` (indexed: a blocking key), ``github_url``,
  ``github_stars``, ``submitted_by``, ``organization``, ``abstract_urls``: what the
  card showed at each capture.
- ``paper_links.found_in``: ``abstract``, ``card`` or ``both``; rows loaded before
  are ``abstract`` (text pages have no card links). On SQLite the table is rebuilt
  for the CHECK constraint, with the views set aside.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from etl.schema_changes import views_set_aside

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARD_COLUMNS = (
    ("upvotes", sa.Integer()),
    ("arxiv_id", sa.Text()),
    ("github_url", sa.Text()),
    ("github_stars", sa.Integer()),
    ("submitted_by", sa.Text()),
    ("organization", sa.Text()),
    ("abstract_urls", sa.Text()),
)
FOUND_IN = "found_in IN ('abstract', 'card', 'both')"


def upgrade() -> None:
    op.add_column("papers", sa.Column("arxiv_id", sa.Text(), nullable=True))
    op.create_index(op.f("ix_papers_arxiv_id"), "papers", ["arxiv_id"], unique=True)
    for name, type_ in CARD_COLUMNS:
        op.add_column("listings", sa.Column(name, type_, nullable=True))
    op.create_index(op.f("ix_listings_arxiv_id"), "listings", ["arxiv_id"], unique=False)
    with views_set_aside(), op.batch_alter_table("paper_links") as batch:
        batch.add_column(sa.Column("found_in", sa.String(length=16), server_default="abstract", nullable=False))
        batch.create_check_constraint("found_in", FOUND_IN)


def downgrade() -> None:
    with views_set_aside(), op.batch_alter_table("paper_links") as batch:
        batch.drop_constraint(op.f("ck_paper_links_found_in"), type_="check")
        batch.drop_column("found_in")
    op.drop_index(op.f("ix_listings_arxiv_id"), table_name="listings")
    for name, _ in reversed(CARD_COLUMNS):
        op.drop_column("listings", name)
    op.drop_index(op.f("ix_papers_arxiv_id"), table_name="papers")
    op.drop_column("papers", "arxiv_id")
