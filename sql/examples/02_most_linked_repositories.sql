-- Question: which GitHub repositories are linked by the most papers?
-- Reads: github_repositories. Ties are broken by repository name.
SELECT repo, url, papers, first_published_on, last_listed_on
FROM github_repositories
ORDER BY papers DESC, repo
LIMIT 20;
