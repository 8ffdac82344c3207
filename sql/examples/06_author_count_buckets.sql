-- Question: how large are author teams? Papers per bucket of author count, unknown counts apart.
-- Reads: author_count_distribution.
SELECT
    CASE
        WHEN author_count IS NULL THEN 'unknown'
        WHEN author_count = 1 THEN '1'
        WHEN author_count <= 5 THEN '2-5'
        WHEN author_count <= 10 THEN '6-10'
        WHEN author_count <= 20 THEN '11-20'
        ELSE 'more than 20'
    END AS authors,
    CAST(SUM(papers) AS INTEGER) AS papers
FROM author_count_distribution
GROUP BY 1
ORDER BY MIN(COALESCE(author_count, 1000000));
