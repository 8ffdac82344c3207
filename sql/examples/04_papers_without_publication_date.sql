-- Question: which papers have no publication date yet (only seen on pages that do not print one)?
-- Reads: paper_summary. A later daily page with metadata fills the date in.
SELECT paper_id, title, times_listed, first_listed_on
FROM paper_summary
WHERE published_on IS NULL
ORDER BY paper_id;
