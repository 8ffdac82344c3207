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
