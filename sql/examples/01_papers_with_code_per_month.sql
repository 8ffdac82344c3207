-- Question: how many papers were published each month, and how many (and what share) link their code on GitHub?
-- Reads: monthly_publications. The last row (month NULL) counts the papers without a publication date: most of
-- them, since only daily_meta pages print one; 13_papers_listed_per_month.sql counts by listing month instead.
SELECT month, papers, papers_with_github, github_share
FROM monthly_publications
ORDER BY month IS NULL, month;
