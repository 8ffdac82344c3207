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
