"""analyst layer: views, full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:00:00

Views for analysts (their readable source is sql/views/, a test keeps the two
identical) and full-text search over papers' titles and abstracts:

- SQLite: an external-content FTS5 table ``papers_fts`` (content="papers", so
  Datasette detects it), kept in step with ``papers`` by three triggers.
- PostgreSQL: a stored generated ``tsvector`` column ``papers.search_vector``
  (title weighted A, abstract B) with a GIN index.

The SQL is embedded here, not read from sql/, so that an installed papers-etl
(migrations shipped as etl.migrations) can run it. A later migration that
rebuilds ``papers`` with batch mode on SQLite must drop the views and the
triggers first and create them again afterwards.
"""

from collections.abc import Sequence

from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS: dict[str, dict[str, str]] = {
    "paper_summary": {
        "sqlite": """\
-- paper_summary: one row per paper, with its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- first_listed_on / last_listed_on ignore pages without a listing date.
-- (SQLite version; paper_summary.postgresql.sql differs only in the byte-order collation of repo.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
    p.title,
    p.published_on,
    p.author_count,
    links.repo,
    CAST(COALESCE(links.github_repo_count, 0) AS INTEGER) AS github_repo_count,
    CAST(COALESCE(links.link_count, 0) AS INTEGER) AS link_count,
    CAST(COALESCE(seen.times_listed, 0) AS INTEGER) AS times_listed,
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
        MIN(f.listed_on) AS first_listed_on,
        MAX(f.listed_on) AS last_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = p.paper_id
""",
        "postgresql": """\
-- paper_summary: one row per paper, with its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- first_listed_on / last_listed_on ignore pages without a listing date.
-- (PostgreSQL version: COLLATE "C" makes MIN(repo) byte order, as on SQLite, whatever the database collation.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
    p.title,
    p.published_on,
    p.author_count,
    links.repo,
    CAST(COALESCE(links.github_repo_count, 0) AS INTEGER) AS github_repo_count,
    CAST(COALESCE(links.link_count, 0) AS INTEGER) AS link_count,
    CAST(COALESCE(seen.times_listed, 0) AS INTEGER) AS times_listed,
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
-- month is the first day of the month; papers without a publication date are not counted.
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
    WHERE p.published_on IS NOT NULL
) AS dated
GROUP BY month
""",
        "postgresql": """\
-- monthly_publications: papers per month of publication, and the share that links a GitHub repository.
-- month is the first day of the month; papers without a publication date are not counted.
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
    WHERE p.published_on IS NOT NULL
) AS dated
GROUP BY month
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
    SELECT l.paper_id, MAX(f.listed_on) AS last_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = r.paper_id
GROUP BY r.repo
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
    SELECT DISTINCT f.listed_on, l.paper_id
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    WHERE f.listed_on IS NOT NULL
) AS days
JOIN (
    SELECT l.paper_id, MIN(f.listed_on) AS first_listed_on
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS firsts ON firsts.paper_id = days.paper_id
GROUP BY days.listed_on
""",
    },
    "author_count_distribution": {
        "any": """\
-- author_count_distribution: how many papers have each author count; the row with a NULL
-- author_count counts the papers whose number of authors is unknown.
CREATE VIEW author_count_distribution AS
SELECT
    author_count,
    CAST(COUNT(*) AS INTEGER) AS papers
FROM papers
GROUP BY author_count
""",
    },
}

SQLITE_SEARCH_UP = [
    """\
CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, abstract,
    content="papers", content_rowid="paper_id",
    tokenize="porter unicode61 remove_diacritics 2"
)""",
    """\
CREATE TRIGGER papers_fts_after_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.paper_id, new.title, new.abstract);
END""",
    """\
CREATE TRIGGER papers_fts_after_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
    VALUES ('delete', old.paper_id, old.title, old.abstract);
END""",
    """\
CREATE TRIGGER papers_fts_after_update AFTER UPDATE OF paper_id, title, abstract ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
    VALUES ('delete', old.paper_id, old.title, old.abstract);
    INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.paper_id, new.title, new.abstract);
END""",
    # Index the papers already there.
    "INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')",
]

SQLITE_SEARCH_DOWN = [
    "DROP TRIGGER papers_fts_after_update",
    "DROP TRIGGER papers_fts_after_delete",
    "DROP TRIGGER papers_fts_after_insert",
    "DROP TABLE papers_fts",
]

POSTGRESQL_SEARCH_UP = [
    """\
ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', abstract), 'B')
) STORED""",
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
]

POSTGRESQL_SEARCH_DOWN = [
    "DROP INDEX ix_papers_search_vector",
    "ALTER TABLE papers DROP COLUMN search_vector",
]


def view_sql(name: str, dialect: str) -> str:
    variants = VIEWS[name]
    return variants.get(dialect) or variants["any"]


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    dialect = _dialect()
    for statement in SQLITE_SEARCH_UP if dialect == "sqlite" else POSTGRESQL_SEARCH_UP:
        op.execute(statement)
    for name in VIEWS:
        op.execute(view_sql(name, dialect))


def downgrade() -> None:
    dialect = _dialect()
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW {name}")
    for statement in SQLITE_SEARCH_DOWN if dialect == "sqlite" else POSTGRESQL_SEARCH_DOWN:
        op.execute(statement)
