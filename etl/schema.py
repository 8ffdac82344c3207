"""The database schema: one MetaData of Core tables, owned by Alembic migrations.

``migrations/env.py`` uses ``metadata`` as its ``target_metadata``; a test runs
``alembic check`` so that this file and the migrations cannot drift apart.
Column meanings are in the data dictionary, etl/dictionary.py (docs/schema.md is made from it).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .records import FOUND_IN, FOUND_IN_ABSTRACT, LEVELS, LINK_KINDS, LISTED_ON_SOURCES, PAGE_KINDS, PAGE_UNKNOWN

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The Alembic revision these Tables describe: a database at another revision is
# refused or upgraded. tests/test_schema.py checks that it is the head of migrations/.
SCHEMA_REVISION = "0009"

RUN_STATUSES = ("running", "succeeded", "partial", "failed")

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _timestamp(name: str, nullable: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


etl_runs = Table(
    "etl_runs",
    metadata,
    Column("run_id", Integer, primary_key=True),
    _timestamp("started_at"),
    _timestamp("finished_at", nullable=True),
    Column("status", String(16), nullable=False),
    Column("message", Text),
    Column("files_seen", Integer, nullable=False, server_default="0"),
    Column("files_loaded", Integer, nullable=False, server_default="0"),
    Column("files_skipped", Integer, nullable=False, server_default="0"),
    Column("files_refused", Integer, nullable=False, server_default="0"),
    Column("records_read", Integer, nullable=False, server_default="0"),
    Column("papers_inserted", Integer, nullable=False, server_default="0"),
    Column("papers_updated", Integer, nullable=False, server_default="0"),
    Column("records_rejected", Integer, nullable=False, server_default="0"),
    Column("fields_rejected", Integer, nullable=False, server_default="0"),
    CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
)

# The capture formats of etl.formats (one row per registered format, filled by each load):
# source_files.layout refers to it, so a new format needs no migration.
capture_formats = Table(
    "capture_formats",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("description", Text, nullable=False),
)

source_files = Table(
    "source_files",
    metadata,
    Column("source_file_id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("layout", String(32), ForeignKey("capture_formats.name"), nullable=False),
    Column("listed_on", Date),
    Column("listed_on_source", String(16)),
    Column("record_count", Integer, nullable=False),
    Column("run_id", Integer, ForeignKey("etl_runs.run_id"), nullable=False, index=True),
    _timestamp("loaded_at"),
    Column("parse_digest", String(32)),  # what the file parsed to (etl.parsing); load --force skips a match
    # What the capture tool's wrapper says (etl.formats.wrapper), and the file's own time.
    Column("page_url", Text),
    Column("page_kind", String(16), nullable=False, server_default=PAGE_UNKNOWN),
    _timestamp("captured_at", nullable=True),
    _timestamp("modified_at", nullable=True),
    CheckConstraint(_one_of("listed_on_source", LISTED_ON_SOURCES), name="listed_on_source"),
    CheckConstraint("(listed_on IS NULL) = (listed_on_source IS NULL)", name="listed_on_has_source"),
    CheckConstraint(_one_of("page_kind", PAGE_KINDS), name="page_kind"),
)

papers = Table(
    "papers",
    metadata,
    Column("paper_id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("title_key", Text, nullable=False, index=True),  # not unique: unrelated papers may share a short title
    Column("abstract", Text, nullable=False),
    Column("published_on", Date, index=True),
    Column("author_count", Integer),
    # The arXiv id cards give ("2606.00683"): one id is one paper (etl.dedup); NULL when no sighting gave one.
    Column("arxiv_id", Text, unique=True, index=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    CheckConstraint("author_count IS NULL OR author_count > 0", name="author_count_positive"),
)

paper_links = Table(
    "paper_links",
    metadata,
    Column("paper_id", Integer, ForeignKey("papers.paper_id", ondelete="CASCADE"), primary_key=True),
    Column("url", Text, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("repo", Text, index=True),
    Column("found_in", String(16), nullable=False, server_default=FOUND_IN_ABSTRACT),
    CheckConstraint(_one_of("kind", LINK_KINDS), name="kind"),
    CheckConstraint(_one_of("found_in", FOUND_IN), name="found_in"),
    CheckConstraint(f"(kind = '{LINK_KINDS[0]}') = (repo IS NOT NULL)", name="repo_iff_github_repo"),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", Integer, ForeignKey("papers.paper_id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("hf_user", Text),
    CheckConstraint("position > 0", name="position_positive"),
)

listings = Table(
    "listings",
    metadata,
    Column("source_file_id", Integer, ForeignKey("source_files.source_file_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.paper_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("raw_title", Text, nullable=False),
    Column("raw_abstract", Text, nullable=False),
    Column("raw_meta", Text),
    # What the card showed at this capture (etl.records.CardFacts): a point of each paper's time series.
    Column("comments", Integer),
    Column("upvotes", Integer),
    Column("arxiv_id", Text, index=True),
    Column("github_url", Text),
    Column("github_stars", Integer),
    Column("submitted_by", Text),
    Column("organization", Text),
    Column("abstract_urls", Text),
    Column("project_page", Text),
    Column("listed_on", Date),  # the card's own listing date, where the capture gives one per card
    Column("author_names", Text),  # JSON: [[name, hf_user or null], ...] as the capture gave them
    # Blocking keys of this sighting (etl.dedup): where a new sighting's candidates are looked up.
    Column("title_key", Text, nullable=False, index=True),
    Column("abstract_key", Text, nullable=False, index=True),
    Index(None, "paper_id"),
)

rejects = Table(
    "rejects",
    metadata,
    Column("reject_id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("etl_runs.run_id"), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("line_no", Integer),
    Column("level", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("excerpt", Text),
    CheckConstraint(_one_of("level", LEVELS), name="level"),
)


def _describe_from_the_dictionary() -> None:
    """Table and column comments from etl/dictionary.py, so that ``alembic check`` (tests/test_schema.py)
    fails when a description changed without a migration calling ``dictionary.apply_comments``."""
    from .dictionary import RELATIONS, column_comment, plain

    described = {r.name: r for r in RELATIONS}
    for table in metadata.tables.values():
        if table.name not in described:  # tests/test_docs.py names what is missing
            continue
        table.comment = plain(described[table.name].description)
        columns = {c.name: c for c in described[table.name].columns}
        for column in table.columns:
            if column.name in columns:
                column.comment = column_comment(columns[column.name])


_describe_from_the_dictionary()
