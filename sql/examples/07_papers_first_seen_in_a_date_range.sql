-- Question: which papers were listed for the first time between two dates (here 2026-03-03 and 2026-03-31)?
-- Reads: paper_summary. Dates are written as 'YYYY-MM-DD' text, which both engines compare as dates.
SELECT paper_id, title, first_listed_on, published_on
FROM paper_summary
WHERE first_listed_on BETWEEN '2026-03-03' AND '2026-03-31'
ORDER BY first_listed_on, paper_id;
