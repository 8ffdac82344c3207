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
