"""what cards and the papers API show: authors' names, card listing dates, and the views that read them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00

- ``paper_authors(paper_id, position, name, hf_user)``: a paper's authors in
  order, where a capture names them (the papers API, saved pages).
- ``listings``: ``author_names`` (JSON text) and ``project_page``, what each
  sighting gave (so that ``rebuild`` can derive authors and links again), and
  ``listed_on``, a card's own listing date (a papers API file may hold several days).
- ``paper_summary`` gains ``arxiv_id``, ``hf_url``, ``authors``, ``latest_upvotes``
  and ``max_upvotes``; the new view ``paper_upvotes`` gives one row per paper and
  day seen with an upvote count. The views that count by listing date read
  ``COALESCE(l.listed_on, f.listed_on)``: the card's own date, else its page's.
- PostgreSQL: the data dictionary's comments on all of it (``apply_comments``).

The view SQL is embedded (sql/views/ holds the readable copy; a test keeps them
identical). Downgrade restores each view as the migration before defined it.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
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
-- authors are the names a capture gave (papers API, saved pages), in order, comma separated; NULL when unknown.
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
    (
        SELECT group_concat(named.name, ', ')
        FROM (SELECT a.name FROM paper_authors AS a WHERE a.paper_id = p.paper_id ORDER BY a.position) AS named
    ) AS authors,
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
        COUNT(DISTINCT COALESCE(l.listed_on, f.listed_on)) AS days_listed,
        MIN(l.position) AS best_position,
        MIN(COALESCE(l.listed_on, f.listed_on)) AS first_listed_on,
        MAX(COALESCE(l.listed_on, f.listed_on)) AS last_listed_on,
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
-- authors are the names a capture gave (papers API, saved pages), in order, comma separated; NULL when unknown.
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
    (
        SELECT string_agg(a.name, ', ' ORDER BY a.position) FROM paper_authors AS a WHERE a.paper_id = p.paper_id
    ) AS authors,
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
        COUNT(DISTINCT COALESCE(l.listed_on, f.listed_on)) AS days_listed,
        MIN(l.position) AS best_position,
        MIN(COALESCE(l.listed_on, f.listed_on)) AS first_listed_on,
        MAX(COALESCE(l.listed_on, f.listed_on)) AS last_listed_on,
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
-- listed_on is the card's own listing date (papers API), else the page's, else the day it was captured.
-- upvotes, comments and github_stars are the highest the paper showed that day; captures counts its sightings.
-- (SQLite version; paper_upvotes.postgresql.sql differs only in how a capture time becomes a day.)
CREATE VIEW paper_upvotes AS
SELECT
    l.paper_id,
    p.arxiv_id,
    p.title,
    COALESCE(l.listed_on, f.listed_on, date(f.captured_at)) AS listed_on,
    MAX(l.upvotes) AS upvotes,
    MAX(l.comments) AS comments,
    MAX(l.github_stars) AS github_stars,
    CAST(COUNT(*) AS INTEGER) AS captures
FROM listings AS l
JOIN papers AS p ON p.paper_id = l.paper_id
JOIN source_files AS f ON f.source_file_id = l.source_file_id
WHERE l.upvotes IS NOT NULL AND COALESCE(l.listed_on, f.listed_on, f.captured_at) IS NOT NULL
GROUP BY l.paper_id, p.arxiv_id, p.title, COALESCE(l.listed_on, f.listed_on, date(f.captured_at))
""",
        "postgresql": """\
-- paper_upvotes: one row per paper and day it was seen with an upvote count, for trend charts.
-- listed_on is the card's own listing date (papers API), else the page's, else the day it was captured.
-- upvotes, comments and github_stars are the highest the paper showed that day; captures counts its sightings.
-- (PostgreSQL version: the capture time's day is taken in UTC, as SQLite's date() does.)
CREATE VIEW paper_upvotes AS
SELECT
    l.paper_id,
    p.arxiv_id,
    p.title,
    COALESCE(l.listed_on, f.listed_on, CAST(f.captured_at AT TIME ZONE 'UTC' AS DATE)) AS listed_on,
    MAX(l.upvotes) AS upvotes,
    MAX(l.comments) AS comments,
    MAX(l.github_stars) AS github_stars,
    CAST(COUNT(*) AS INTEGER) AS captures
FROM listings AS l
JOIN papers AS p ON p.paper_id = l.paper_id
JOIN source_files AS f ON f.source_file_id = l.source_file_id
WHERE l.upvotes IS NOT NULL AND COALESCE(l.listed_on, f.listed_on, f.captured_at AT TIME ZONE 'UTC') IS NOT NULL
GROUP BY l.paper_id, p.arxiv_id, p.title, COALESCE(l.listed_on, f.listed_on, CAST(f.captured_at AT TIME ZONE 'UTC' AS DATE))
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
        SELECT date(COALESCE(l.listed_on, f.listed_on), 'start of month') AS month, l.paper_id
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
        SELECT l.paper_id, date(MIN(COALESCE(l.listed_on, f.listed_on)), 'start of month') AS month
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
        SELECT CAST(date_trunc('month', COALESCE(l.listed_on, f.listed_on)) AS DATE) AS month, l.paper_id
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
        SELECT l.paper_id, CAST(date_trunc('month', MIN(COALESCE(l.listed_on, f.listed_on))) AS DATE) AS month
        FROM listings AS l
        JOIN source_files AS f ON f.source_file_id = l.source_file_id
        GROUP BY l.paper_id
    ) AS first_months
    GROUP BY month
) AS firsts ON firsts.month = per_month.month OR (firsts.month IS NULL AND per_month.month IS NULL)
""",
    },
    "listing_days": {
        "any": """\
-- listing_days: one row per listing date: distinct papers listed that day, and how many of them were
-- listed that day for the first time (no earlier dated page showed them). Pages without a listing date
-- are not counted.
CREATE VIEW listing_days AS
SELECT
    days.listed_on,
    CAST(COUNT(*) AS INTEGER) AS papers_listed,
    CAST(SUM(CASE WHEN days.listed_on = firsts.first_listed_on THEN 1 ELSE 0 END) AS INTEGER) AS new_papers
FROM (
    SELECT DISTINCT COALESCE(l.listed_on, f.listed_on) AS listed_on, l.paper_id
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    WHERE COALESCE(l.listed_on, f.listed_on) IS NOT NULL
) AS days
JOIN (
    SELECT l.paper_id, MIN(COALESCE(l.listed_on, f.listed_on)) AS first_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS firsts ON firsts.paper_id = days.paper_id
GROUP BY days.listed_on
""",
    },
    "github_repositories": {
        "any": """\
-- github_repositories: one row per GitHub repository linked from at least one paper's abstract.
-- papers: distinct papers linking it; first_published_on: earliest publication date among them;
-- last_listed_on: latest listing date of a page that showed one of them.
CREATE VIEW github_repositories AS
SELECT
    r.repo,
    'https://github.com/' || r.repo AS url,
    CAST(COUNT(*) AS INTEGER) AS papers,
    MIN(p.published_on) AS first_published_on,
    MAX(seen.last_listed_on) AS last_listed_on
FROM (SELECT DISTINCT paper_id, repo FROM paper_links WHERE kind = 'github_repo') AS r
JOIN papers AS p ON p.paper_id = r.paper_id
LEFT JOIN (
    SELECT l.paper_id, MAX(COALESCE(l.listed_on, f.listed_on)) AS last_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = r.paper_id
GROUP BY r.repo
""",
    },
}
NEW_VIEWS = ("paper_upvotes",)


def view_sql(name: str, dialect: str) -> str:
    variants = VIEWS[name]
    return variants.get(dialect) or variants["any"]


def _earlier_view_sql(name: str, dialect: str) -> str:
    """The view as the latest migration before this one created it."""
    found = None
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem.startswith("__") or path.stem >= Path(__file__).stem:
            continue
        spec = importlib.util.spec_from_file_location(f"earlier_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if name in getattr(module, "VIEWS", {}):
            found = module.view_sql(name, dialect)
    return found


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
    op.add_column("listings", sa.Column("listed_on", sa.Date(), nullable=True))
    op.add_column("listings", sa.Column("author_names", sa.Text(), nullable=True))
    dialect = op.get_bind().dialect.name
    for name in VIEWS:
        if name not in NEW_VIEWS:
            op.execute(f"DROP VIEW {name}")
    for name in VIEWS:
        op.execute(view_sql(name, dialect))
    apply_comments(op.get_bind())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    for name in VIEWS:
        if name not in NEW_VIEWS:
            op.execute(_earlier_view_sql(name, dialect))
    op.drop_column("listings", "author_names")
    op.drop_column("listings", "listed_on")
    op.drop_column("listings", "project_page")
    op.drop_table("paper_authors")
    apply_comments(op.get_bind())
