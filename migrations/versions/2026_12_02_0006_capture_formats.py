"""capture formats as plug-ins: the capture_formats table, what the capture says about its page, comments

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:30:00

- ``capture_formats(name, description)``: one row per capture format of
  ``etl.formats``; each load adds the formats it knows. ``source_files.layout``
  refers to it instead of a CHECK list, so a new format needs no migration.
- ``source_files``: ``page_url``, ``page_kind`` (``daily``, ``weekly``,
  ``monthly``, ``trending``, ``search``, ``unknown``) and ``captured_at`` from
  the capture tool's wrapper; ``modified_at``, the file's modification time
  (the bound for dates printed without a year, kept so that ``rebuild`` reads
  them as the load did); ``listed_on_source`` may be ``page_url``.
- ``listings.comments``: the comment count printed on the card.

On SQLite, ``source_files`` is rebuilt (batch mode): the views that read it are
dropped first and created again from their own stored SQL afterwards.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from etl.schema_changes import views_set_aside

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The formats of this release (each load adds or updates its own rows; these cover the rows already loaded).
FORMATS = {
    "compact": "Search results or a trending page as plain text: 'Subscribe' glued to the first title, then "
    "title and abstract lines alternating, with no blank lines.",
    "daily": "A daily listing as plain text: banners, the listing date without a year, then blank-line separated "
    "title and abstract blocks.",
    "daily_meta": "A daily listing as plain text with card metadata: after each abstract, the author count (or "
    "organisation), a '·' line, the publication date and perhaps a comment count.",
}
LAYOUTS_BEFORE = "layout IN ('compact', 'daily', 'daily_meta')"
SOURCES_BEFORE = "listed_on_source IN ('option', 'file_name', 'header')"
SOURCES_AFTER = "listed_on_source IN ('option', 'page_url', 'file_name', 'header')"
PAGE_KINDS = "page_kind IN ('daily', 'weekly', 'monthly', 'trending', 'search', 'unknown')"


def upgrade() -> None:
    formats = op.create_table(
        "capture_formats",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_capture_formats")),
    )
    op.bulk_insert(formats, [{"name": name, "description": text} for name, text in FORMATS.items()])
    with views_set_aside():
        with op.batch_alter_table("source_files") as batch:
            batch.drop_constraint(op.f("ck_source_files_layout"), type_="check")
            batch.drop_constraint(op.f("ck_source_files_listed_on_source"), type_="check")
            batch.alter_column("layout", existing_type=sa.String(length=16), type_=sa.String(length=32))
            batch.add_column(sa.Column("page_url", sa.Text(), nullable=True))
            batch.add_column(sa.Column("page_kind", sa.String(length=16), server_default="unknown", nullable=False))
            batch.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))
            batch.create_check_constraint("listed_on_source", SOURCES_AFTER)
            batch.create_check_constraint("page_kind", PAGE_KINDS)
            batch.create_foreign_key(
                op.f("fk_source_files_layout_capture_formats"), "capture_formats", ["layout"], ["name"]
            )
    op.add_column("listings", sa.Column("comments", sa.Integer(), nullable=True))


def downgrade() -> None:
    conn = op.get_bind()
    other = conn.execute(
        sa.text("SELECT count(*) FROM source_files WHERE layout NOT IN ('compact', 'daily', 'daily_meta')")
    ).scalar_one()
    if other:
        raise RuntimeError(
            f"{other} loaded file(s) are in capture formats that revision 0005 does not know; "
            "remove them (or keep this revision) before downgrading"
        )
    op.drop_column("listings", "comments")
    # 0005 knows no listing date from a page URL: those pages keep their date as an --listed-on would.
    conn.execute(sa.text("UPDATE source_files SET listed_on_source = 'option' WHERE listed_on_source = 'page_url'"))
    with views_set_aside():
        with op.batch_alter_table("source_files") as batch:
            batch.drop_constraint(op.f("fk_source_files_layout_capture_formats"), type_="foreignkey")
            batch.drop_constraint(op.f("ck_source_files_page_kind"), type_="check")
            batch.drop_constraint(op.f("ck_source_files_listed_on_source"), type_="check")
            batch.drop_column("modified_at")
            batch.drop_column("captured_at")
            batch.drop_column("page_kind")
            batch.drop_column("page_url")
            batch.alter_column("layout", existing_type=sa.String(length=32), type_=sa.String(length=16))
            batch.create_check_constraint("listed_on_source", SOURCES_BEFORE)
            batch.create_check_constraint("layout", LAYOUTS_BEFORE)
    op.drop_table("capture_formats")
