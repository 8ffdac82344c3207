"""The views analysts read, described with their types, and every relation papers-etl exposes.

The views themselves are created by an Alembic migration (their readable SQL is in
sql/views/). SQLite has no DATE type, so a view's date column comes back from SQLite
as ISO text; selecting through the typed ``Table`` descriptions below makes
SQLAlchemy read it as a ``datetime.date`` on both engines. ``view_metadata`` is
separate from ``etl.schema.metadata`` so that Alembic never tries to create these as
tables; a test checks the descriptions against the live views on both engines.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, Integer, MetaData, Table, Text

from .schema import metadata

view_metadata = MetaData()

paper_summary = Table(
    "paper_summary",
    view_metadata,
    Column("paper_id", Integer, primary_key=True),
    Column("arxiv_id", Text),
    Column("hf_url", Text),
    Column("title", Text),
    Column("abstract", Text),
    Column("published_on", Date),
    Column("author_count", Integer),
    Column("authors", Text),
    Column("repo", Text),
    Column("has_code", Integer),
    Column("github_repo_count", Integer),
    Column("link_count", Integer),
    Column("times_listed", Integer),
    Column("days_listed", Integer),
    Column("best_position", Integer),
    Column("first_listed_on", Date),
    Column("last_listed_on", Date),
    Column("latest_upvotes", Integer),
    Column("max_upvotes", Integer),
)

paper_upvotes = Table(
    "paper_upvotes",
    view_metadata,
    Column("paper_id", Integer, primary_key=True),
    Column("arxiv_id", Text),
    Column("title", Text),
    Column("listed_on", Date, primary_key=True),
    Column("upvotes", Integer),
    Column("comments", Integer),
    Column("github_stars", Integer),
    Column("captures", Integer),
)

monthly_publications = Table(
    "monthly_publications",
    view_metadata,
    Column("month", Date, primary_key=True),
    Column("papers", Integer),
    Column("papers_with_github", Integer),
    Column("github_share", Float),
)

github_repositories = Table(
    "github_repositories",
    view_metadata,
    Column("repo", Text, primary_key=True),
    Column("url", Text),
    Column("papers", Integer),
    Column("first_published_on", Date),
    Column("last_listed_on", Date),
)

listing_days = Table(
    "listing_days",
    view_metadata,
    Column("listed_on", Date, primary_key=True),
    Column("papers_listed", Integer),
    Column("new_papers", Integer),
)

listing_months = Table(
    "listing_months",
    view_metadata,
    Column("month", Date, primary_key=True),
    Column("papers_first_listed", Integer),
    Column("papers_listed", Integer),
    Column("listings", Integer),
    Column("papers_with_code", Integer),
    Column("code_share", Float),
)

author_count_distribution = Table(
    "author_count_distribution",
    view_metadata,
    Column("author_count", Integer, primary_key=True),
    Column("papers", Integer),
)

VIEWS: dict[str, Table] = {view.name: view for view in view_metadata.tables.values()}

# Everything `papers-etl export` may read: the tables, then the views.
RELATIONS: dict[str, Table] = {table.name: table for table in metadata.sorted_tables} | VIEWS
