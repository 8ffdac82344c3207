"""descriptions on PostgreSQL; paper_summary, monthly_publications and listing_months

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00

- ``paper_summary`` gains ``abstract``, ``has_code``, ``days_listed`` and
  ``best_position``; ``monthly_publications`` gains a row with a NULL month for
  the papers without a publication date (they dropped out silently before);
  the new view ``listing_months`` counts by listing month, the same on both engines.
- PostgreSQL: ``COMMENT ON`` every table, view and column, from the data
  dictionary (``etl.dictionary.apply_comments``), so BI tools show the
  descriptions. A later migration that adds a column or recreates a view calls
  ``apply_comments(op.get_bind())`` again; it comments only what exists.

The view SQL is embedded (sql/views/ holds the readable copy; a test keeps them
identical). Downgrade restores the views of revision 0003 and removes the comments.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

from etl.dictionary import apply_comments

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS: dict[str, dict[str, str]] = {
    "paper_summary": {
        "sqlite": """\
-- paper_summary: one row per paper, with its abstract, its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- has_code is 1 when it links a GitHub repository, else 0; best_position is its best (smallest) place on a page.
-- days_listed, first_listed_on and last_listed_on ignore pages without a listing date.
-- (SQLite version; paper_summary.postgresql.sql differs only in the byte-order collation of repo.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
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
    seen.last_listed_on
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
        MAX(f.listed_on) AS last_listed_on
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
-- (PostgreSQL version: COLLATE "C" makes MIN(repo) byte order, as on SQLite, whatever the database collation.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
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
    seen.last_listed_on
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
        MAX(f.listed_on) AS last_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = p.paper_id
""",
    },
    "monthly_publications": {
        "sqlite": """\
-- monthly_publications: papers per month of publication, and the share that links a GitHub repository.
-- month is the first day of the month; the row with a NULL month counts the papers without a publication date
-- (most of them: only daily_meta pages print one; listing_months counts by listing date instead).
-- (SQLite version; monthly_publications.postgresql.sql differs only in how the month is computed.)
CREATE VIEW monthly_publications AS
SELECT
    month,
    CAST(COUNT(*) AS INTEGER) AS papers,
    CAST(SUM(has_github) AS INTEGER) AS papers_with_github,
    CAST(SUM(has_github) AS DOUBLE PRECISION) / COUNT(*) AS github_share
FROM (
    SELECT
        date(p.published_on, 'start of month') AS month,
        CASE WHEN EXISTS (
            SELECT 1 FROM paper_links AS pl WHERE pl.paper_id = p.paper_id AND pl.kind = 'github_repo'
        ) THEN 1 ELSE 0 END AS has_github
    FROM papers AS p
) AS dated
GROUP BY month
""",
        "postgresql": """\
-- monthly_publications: papers per month of publication, and the share that links a GitHub repository.
-- month is the first day of the month; the row with a NULL month counts the papers without a publication date
-- (most of them: only daily_meta pages print one; listing_months counts by listing date instead).
-- (PostgreSQL version: date_trunc instead of SQLite's date(…, 'start of month').)
CREATE VIEW monthly_publications AS
SELECT
    month,
    CAST(COUNT(*) AS INTEGER) AS papers,
    CAST(SUM(has_github) AS INTEGER) AS papers_with_github,
    CAST(SUM(has_github) AS DOUBLE PRECISION) / COUNT(*) AS github_share
FROM (
    SELECT
        CAST(date_trunc('month', p.published_on) AS DATE) AS month,
        CASE WHEN EXISTS (
            SELECT 1 FROM paper_links AS pl WHERE pl.paper_id = p.paper_id AND pl.kind = 'github_repo'
        ) THEN 1 ELSE 0 END AS has_github
    FROM papers AS p
) AS dated
GROUP BY month
""",
    },
    "listing_months": {
        "sqlite": """\
-- listing_months: one row per month of listing dates: papers listed that month for the first time, distinct
-- papers and listings on that month's pages, and the share of those papers that link a GitHub repository.
-- month is the first day of the month; the row with a NULL month counts the pages without a listing date, and
-- its papers_first_listed the papers seen only on such pages, so papers_first_listed adds up to every paper.
-- (SQLite version; listing_months.postgresql.sql differs only in how the month is computed.)
CREATE VIEW listing_months AS
SELECT
    per_month.month,
    CAST(COALESCE(firsts.papers, 0) AS INTEGER) AS papers_first_listed,
    per_month.papers_listed,
    per_month.listings,
    per_month.papers_with_code,
    CAST(per_month.papers_with_code AS DOUBLE PRECISION) / per_month.papers_listed AS code_share
FROM (
    SELECT
        shown.month,
        CAST(COUNT(DISTINCT shown.paper_id) AS INTEGER) AS papers_listed,
        CAST(COUNT(*) AS INTEGER) AS listings,
        CAST(COUNT(DISTINCT CASE WHEN coded.paper_id IS NOT NULL THEN shown.paper_id END) AS INTEGER)
            AS papers_with_code
    FROM (
        SELECT date(f.listed_on, 'start of month') AS month, l.paper_id
        FROM listings AS l
        JOIN source_files AS f ON f.source_file_id = l.source_file_id
    ) AS shown
    LEFT JOIN (SELECT DISTINCT paper_id FROM paper_links WHERE kind = 'github_repo') AS coded
        ON coded.paper_id = shown.paper_id
    GROUP BY shown.month
) AS per_month
LEFT JOIN (
    SELECT month, COUNT(*) AS papers
    FROM (
        SELECT l.paper_id, date(MIN(f.listed_on), 'start of month') AS month
        FROM listings AS l
        JOIN source_files AS f ON f.source_file_id = l.source_file_id
        GROUP BY l.paper_id
    ) AS first_months
    GROUP BY month
) AS firsts ON firsts.month = per_month.month OR (firsts.month IS NULL AND per_month.month IS NULL)
""",
        "postgresql": """\
-- listing_months: one row per month of listing dates: papers listed that month for the first time, distinct
-- papers and listings on that month's pages, and the share of those papers that link a GitHub repository.
-- month is the first day of the month; the row with a NULL month counts the pages without a listing date, and
-- its papers_first_listed the papers seen only on such pages, so papers_first_listed adds up to every paper.
-- (PostgreSQL version: date_trunc instead of SQLite's date(…, 'start of month').)
CREATE VIEW listing_months AS
SELECT
    per_month.month,
    CAST(COALESCE(firsts.papers, 0) AS INTEGER) AS papers_first_listed,
    per_month.papers_listed,
    per_month.listings,
    per_month.papers_with_code,
    CAST(per_month.papers_with_code AS DOUBLE PRECISION) / per_month.papers_listed AS code_share
FROM (
    SELECT
        shown.month,
        CAST(COUNT(DISTINCT shown.paper_id) AS INTEGER) AS papers_listed,
        CAST(COUNT(*) AS INTEGER) AS listings,
        CAST(COUNT(DISTINCT CASE WHEN coded.paper_id IS NOT NULL THEN shown.paper_id END) AS INTEGER)
            AS papers_with_code
    FROM (
        SELECT CAST(date_trunc('month', f.listed_on) AS DATE) AS month, l.paper_id
        FROM listings AS l
        JOIN source_files AS f ON f.source_file_id = l.source_file_id
    ) AS shown
    LEFT JOIN (SELECT DISTINCT paper_id FROM paper_links WHERE kind = 'github_repo') AS coded
        ON coded.paper_id = shown.paper_id
    GROUP BY shown.month
) AS per_month
LEFT JOIN (
    SELECT month, COUNT(*) AS papers
    FROM (
        SELECT l.paper_id, CAST(date_trunc('month', MIN(f.listed_on)) AS DATE) AS month
        FROM listings AS l
        JOIN source_files AS f ON f.source_file_id = l.source_file_id
        GROUP BY l.paper_id
    ) AS first_months
    GROUP BY month
) AS firsts ON firsts.month = per_month.month OR (firsts.month IS NULL AND per_month.month IS NULL)
""",
    },
}
REPLACED = ("paper_summary", "monthly_publications")  # existed before; listing_months is new


def view_sql(name: str, dialect: str) -> str:
    variants = VIEWS[name]
    return variants.get(dialect) or variants["any"]


def _dialect() -> str:
    return op.get_bind().dialect.name


def _revision_0003():
    """The analyst-layer migration, for the views as it created them (downgrade)."""
    path = next(Path(__file__).parent.glob("*_0003_analyst_layer.py"))
    spec = importlib.util.spec_from_file_location("analyst_layer_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    dialect = _dialect()
    for name in REPLACED:
        op.execute(f"DROP VIEW {name}")
    for name in VIEWS:
        op.execute(view_sql(name, dialect))
    apply_comments(op.get_bind())


def downgrade() -> None:
    dialect = _dialect()
    apply_comments(op.get_bind(), remove=True)
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW {name}")
    earlier = _revision_0003()
    for name in REPLACED:
        op.execute(earlier.view_sql(name, dialect))
