-- Question: which repositories are linked by more than one paper, and by which papers?
-- Reads: paper_links and papers. A shared repository often means a follow-up or a shared codebase.
SELECT l.repo, p.paper_id, p.title, p.published_on
FROM paper_links AS l
JOIN papers AS p ON p.paper_id = l.paper_id
WHERE l.kind = 'github_repo'
  AND l.repo IN (
      SELECT repo FROM paper_links WHERE kind = 'github_repo' GROUP BY repo HAVING COUNT(DISTINCT paper_id) > 1
  )
ORDER BY l.repo, p.paper_id;
