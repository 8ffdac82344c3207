-- Question: how many papers were published each month, and how many (and what share) link their code on GitHub?
-- Reads: monthly_publications (papers without a publication date are not counted).
SELECT month, papers, papers_with_github, github_share
FROM monthly_publications
ORDER BY month;
