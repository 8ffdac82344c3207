-- author_count_distribution: how many papers have each author count; the row with a NULL
-- author_count counts the papers whose number of authors is unknown.
CREATE VIEW author_count_distribution AS
SELECT
    author_count,
    CAST(COUNT(*) AS INTEGER) AS papers
FROM papers
GROUP BY author_count
