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
