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
