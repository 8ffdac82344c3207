-- Question: which papers were seen on the most listing pages, and over which days?
-- Reads: paper_summary. Ties are broken by paper_id (the order papers were first loaded).
SELECT paper_id, title, times_listed, first_listed_on, last_listed_on
FROM paper_summary
ORDER BY times_listed DESC, paper_id
LIMIT 20;
