"""deduplication keys: blocking keys on listings, title_key no longer unique, gist links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00

Unrelated papers may share a short title, so papers.title_key becomes a plain
index. Each listing keeps its blocking keys (title_key, abstract_key), computed
here for the rows already loaded; run ``papers-etl rebuild`` afterwards to apply
the new deduplication rules to existing papers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "kind IN ('github_repo', 'github_pages', 'other')"
KINDS_AFTER = "kind IN ('github_repo', 'github_pages', 'gist', 'other')"


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.drop_constraint(op.f("uq_papers_title_key"), type_="unique")
        batch.create_index("ix_papers_title_key", ["title_key"], unique=False)
    with op.batch_alter_table("paper_links") as batch:
        batch.drop_constraint(op.f("ck_paper_links_kind"), type_="check")
        batch.create_check_constraint("kind", KINDS_AFTER)
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("title_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("abstract_key", sa.Text(), nullable=True))
    _fill_listing_keys()
    with op.batch_alter_table("listings") as batch:
        batch.alter_column("title_key", existing_type=sa.Text(), nullable=False)
        batch.alter_column("abstract_key", existing_type=sa.Text(), nullable=False)
        batch.create_index("ix_listings_title_key", ["title_key"], unique=False)
        batch.create_index("ix_listings_abstract_key", ["abstract_key"], unique=False)


def _fill_listing_keys() -> None:
    from etl.transform import abstract_key, title_key  # the rules of this release

    conn = op.get_bind()
    listings = sa.table(
        "listings",
        sa.column("source_file_id"),
        sa.column("position"),
        sa.column("raw_title"),
        sa.column("raw_abstract"),
        sa.column("title_key"),
        sa.column("abstract_key"),
    )
    rows = conn.execute(
        sa.select(listings.c.source_file_id, listings.c.position, listings.c.raw_title, listings.c.raw_abstract)
    ).all()
    updates = [
        {"sf": row.source_file_id, "pos": row.position, "tk": title_key(row.raw_title), "ak": abstract_key(row.raw_abstract)}
        for row in rows
    ]
    if updates:
        conn.execute(
            listings.update()
            .where(listings.c.source_file_id == sa.bindparam("sf"), listings.c.position == sa.bindparam("pos"))
            .values(title_key=sa.bindparam("tk"), abstract_key=sa.bindparam("ak")),
            updates,
        )


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text("SELECT title_key FROM papers GROUP BY title_key HAVING count(*) > 1 LIMIT 1")
    ).first()
    if shared is not None:
        raise RuntimeError(
            f"cannot downgrade below 0002: several papers share the title key {shared[0]!r}, which 0001 keeps unique;"
            " restore a backup taken before the upgrade instead"
        )
    with op.batch_alter_table("listings") as batch:
        batch.drop_index("ix_listings_abstract_key")
        batch.drop_index("ix_listings_title_key")
        batch.drop_column("abstract_key")
        batch.drop_column("title_key")
    op.execute("UPDATE paper_links SET kind = 'other' WHERE kind = 'gist'")
    with op.batch_alter_table("paper_links") as batch:
        batch.drop_constraint(op.f("ck_paper_links_kind"), type_="check")
        batch.create_check_constraint("kind", KINDS_BEFORE)
    with op.batch_alter_table("papers") as batch:
        batch.drop_index("ix_papers_title_key")
        batch.create_unique_constraint(op.f("uq_papers_title_key"), ["title_key"])
