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
