-- Question: which papers link a project page on github.io, and do they also link a repository?
-- Reads: paper_links (kind 'github_pages') and paper_summary.
SELECT s.paper_id, s.title, l.url AS project_page, s.repo
FROM paper_links AS l
JOIN paper_summary AS s ON s.paper_id = l.paper_id
WHERE l.kind = 'github_pages'
ORDER BY s.paper_id, l.url;
