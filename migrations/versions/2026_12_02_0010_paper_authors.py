"""authors' names: paper_authors, and what each sighting gave (listings.author_names, project_page)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:45:00

- ``paper_authors(paper_id, position, name, hf_user)``: a paper's authors in
  order, where a capture names them (the papers API, saved pages).
- ``listings.author_names`` (JSON text) and ``listings.project_page``: what each
  sighting gave, so that ``rebuild`` can derive the authors and links again.
- PostgreSQL: the data dictionary's comments on them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from etl.dictionary import apply_comments

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("hf_user", sa.Text(), nullable=True),
        sa.CheckConstraint("position > 0", name=op.f("ck_paper_authors_position_positive")),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.paper_id"], name=op.f("fk_paper_authors_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_authors")),
    )
    op.add_column("listings", sa.Column("project_page", sa.Text(), nullable=True))
    op.add_column("listings", sa.Column("author_names", sa.Text(), nullable=True))
    apply_comments(op.get_bind())


def downgrade() -> None:
    op.drop_column("listings", "author_names")
    op.drop_column("listings", "project_page")
    op.drop_table("paper_authors")
