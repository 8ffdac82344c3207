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
