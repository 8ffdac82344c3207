"""paper_summary gains the arXiv id, the Hugging Face URL and upvotes; paper_upvotes for trend charts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00

- ``paper_summary`` gains ``arxiv_id``, ``hf_url`` (the paper's Hugging Face page),
  ``latest_upvotes`` (of the latest capture that showed upvotes) and ``max_upvotes``.
- New view ``paper_upvotes``: one row per paper and day it was seen with an
  upvote count (the page's listing date, else its capture day), for trend charts.
- PostgreSQL: the data dictionary's comments on them (``apply_comments``).

The view SQL is embedded (sql/views/ holds the readable copy; a test keeps them
identical). Downgrade drops paper_upvotes and restores revision 0008's paper_summary.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

from etl.dictionary import apply_comments

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS: dict[str, dict[str, str]] = {
    "paper_summary": {
        "sqlite": """\
-- paper_summary: one row per paper, with its abstract, its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- has_code is 1 when it links a GitHub repository, else 0; best_position is its best (smallest) place on a page.
-- days_listed, first_listed_on and last_listed_on ignore pages without a listing date.
-- hf_url is the paper's Hugging Face page where its arXiv id is known; latest_upvotes are those of the
-- latest capture that showed upvotes (capture time, else the file's time, else the load's), max_upvotes the most.
-- (SQLite version; paper_summary.postgresql.sql differs only in the byte-order collation of repo.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
    p.arxiv_id,
    CASE WHEN p.arxiv_id IS NOT NULL THEN 'https://huggingface.co/papers/' || p.arxiv_id END AS hf_url,
    p.title,
    p.abstract,
    p.published_on,
    p.author_count,
    links.repo,
    CASE WHEN links.github_repo_count > 0 THEN 1 ELSE 0 END AS has_code,
    CAST(COALESCE(links.github_repo_count, 0) AS INTEGER) AS github_repo_count,
    CAST(COALESCE(links.link_count, 0) AS INTEGER) AS link_count,
    CAST(COALESCE(seen.times_listed, 0) AS INTEGER) AS times_listed,
    CAST(COALESCE(seen.days_listed, 0) AS INTEGER) AS days_listed,
    seen.best_position,
    seen.first_listed_on,
    seen.last_listed_on,
    (
        SELECT u.upvotes
        FROM listings AS u
        JOIN source_files AS uf ON uf.source_file_id = u.source_file_id
        WHERE u.paper_id = p.paper_id AND u.upvotes IS NOT NULL
        ORDER BY COALESCE(uf.captured_at, uf.modified_at, uf.loaded_at) DESC, uf.source_file_id DESC, u.position
        LIMIT 1
    ) AS latest_upvotes,
    seen.max_upvotes
FROM papers AS p
LEFT JOIN (
    SELECT
        paper_id,
        MIN(repo) AS repo,
        COUNT(DISTINCT repo) AS github_repo_count,
        COUNT(*) AS link_count
    FROM paper_links
    GROUP BY paper_id
) AS links ON links.paper_id = p.paper_id
LEFT JOIN (
    SELECT
        l.paper_id,
        COUNT(*) AS times_listed,
        COUNT(DISTINCT f.listed_on) AS days_listed,
        MIN(l.position) AS best_position,
        MIN(f.listed_on) AS first_listed_on,
        MAX(f.listed_on) AS last_listed_on,
        MAX(l.upvotes) AS max_upvotes
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = p.paper_id
""",
        "postgresql": """\
-- paper_summary: one row per paper, with its abstract, its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- has_code is 1 when it links a GitHub repository, else 0; best_position is its best (smallest) place on a page.
-- days_listed, first_listed_on and last_listed_on ignore pages without a listing date.
-- hf_url is the paper's Hugging Face page where its arXiv id is known; latest_upvotes are those of the
-- latest capture that showed upvotes (capture time, else the file's time, else the load's), max_upvotes the most.
-- (PostgreSQL version: COLLATE "C" makes MIN(repo) byte order, as on SQLite, whatever the database collation.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
    p.arxiv_id,
    CASE WHEN p.arxiv_id IS NOT NULL THEN 'https://huggingface.co/papers/' || p.arxiv_id END AS hf_url,
    p.title,
    p.abstract,
    p.published_on,
    p.author_count,
    links.repo,
    CASE WHEN links.github_repo_count > 0 THEN 1 ELSE 0 END AS has_code,
    CAST(COALESCE(links.github_repo_count, 0) AS INTEGER) AS github_repo_count,
    CAST(COALESCE(links.link_count, 0) AS INTEGER) AS link_count,
    CAST(COALESCE(seen.times_listed, 0) AS INTEGER) AS times_listed,
    CAST(COALESCE(seen.days_listed, 0) AS INTEGER) AS days_listed,
    seen.best_position,
    seen.first_listed_on,
    seen.last_listed_on,
    (
        SELECT u.upvotes
        FROM listings AS u
        JOIN source_files AS uf ON uf.source_file_id = u.source_file_id
        WHERE u.paper_id = p.paper_id AND u.upvotes IS NOT NULL
        ORDER BY COALESCE(uf.captured_at, uf.modified_at, uf.loaded_at) DESC, uf.source_file_id DESC, u.position
        LIMIT 1
    ) AS latest_upvotes,
    seen.max_upvotes
FROM papers AS p
LEFT JOIN (
    SELECT
        paper_id,
        MIN(repo COLLATE "C") AS repo,
        COUNT(DISTINCT repo) AS github_repo_count,
        COUNT(*) AS link_count
    FROM paper_links
    GROUP BY paper_id
) AS links ON links.paper_id = p.paper_id
LEFT JOIN (
    SELECT
        l.paper_id,
        COUNT(*) AS times_listed,
        COUNT(DISTINCT f.listed_on) AS days_listed,
        MIN(l.position) AS best_position,
        MIN(f.listed_on) AS first_listed_on,
        MAX(f.listed_on) AS last_listed_on,
        MAX(l.upvotes) AS max_upvotes
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = p.paper_id
""",
    },
    "paper_upvotes": {
        "sqlite": """\
-- paper_upvotes: one row per paper and day it was seen with an upvote count, for trend charts.
-- listed_on is the page's listing date, else the day it was captured (search and trending pages).
-- upvotes, comments and github_stars are the highest the paper showed that day; captures counts its sightings.
-- (SQLite version; paper_upvotes.postgresql.sql differs only in how a capture time becomes a day.)
CREATE VIEW paper_upvotes AS
SELECT
    l.paper_id,
    p.arxiv_id,
    p.title,
    COALESCE(f.listed_on, date(f.captured_at)) AS listed_on,
    MAX(l.upvotes) AS upvotes,
    MAX(l.comments) AS comments,
    MAX(l.github_stars) AS github_stars,
    CAST(COUNT(*) AS INTEGER) AS captures
FROM listings AS l
JOIN papers AS p ON p.paper_id = l.paper_id
JOIN source_files AS f ON f.source_file_id = l.source_file_id
WHERE l.upvotes IS NOT NULL AND COALESCE(f.listed_on, f.captured_at) IS NOT NULL
GROUP BY l.paper_id, p.arxiv_id, p.title, COALESCE(f.listed_on, date(f.captured_at))
""",
        "postgresql": """\
-- paper_upvotes: one row per paper and day it was seen with an upvote count, for trend charts.
-- listed_on is the page's listing date, else the day it was captured (search and trending pages).
-- upvotes, comments and github_stars are the highest the paper showed that day; captures counts its sightings.
-- (PostgreSQL version: the capture time's day is taken in UTC, as SQLite's date() does.)
CREATE VIEW paper_upvotes AS
SELECT
    l.paper_id,
    p.arxiv_id,
    p.title,
    COALESCE(f.listed_on, CAST(f.captured_at AT TIME ZONE 'UTC' AS DATE)) AS listed_on,
    MAX(l.upvotes) AS upvotes,
    MAX(l.comments) AS comments,
    MAX(l.github_stars) AS github_stars,
    CAST(COUNT(*) AS INTEGER) AS captures
FROM listings AS l
JOIN papers AS p ON p.paper_id = l.paper_id
JOIN source_files AS f ON f.source_file_id = l.source_file_id
WHERE l.upvotes IS NOT NULL AND COALESCE(f.listed_on, f.captured_at AT TIME ZONE 'UTC') IS NOT NULL
GROUP BY l.paper_id, p.arxiv_id, p.title, COALESCE(f.listed_on, CAST(f.captured_at AT TIME ZONE 'UTC' AS DATE))
""",
    },
}


def view_sql(name: str, dialect: str) -> str:
    return VIEWS[name][dialect]


def _revision_0008():
    """The migration before, for paper_summary as it created it (downgrade)."""
    path = next(Path(__file__).parent.glob("*_0008_descriptions_and_views.py"))
    spec = importlib.util.spec_from_file_location("descriptions_and_views_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW paper_summary")
    for name in VIEWS:
        op.execute(view_sql(name, dialect))
    apply_comments(op.get_bind())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW paper_upvotes")
    op.execute("DROP VIEW paper_summary")
    op.execute(_revision_0008().view_sql("paper_summary", dialect))
    apply_comments(op.get_bind())
