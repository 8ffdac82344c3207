-- Question: which papers were listed for the first time between two dates, :from and :to (YYYY-MM-DD)?
-- Reads: paper_summary. Run it with papers-etl query -f FILE -p from 2026-03-03 -p to 2026-03-31 (or as a
-- canned query of papers-etl serve); dates given as 'YYYY-MM-DD' text compare as dates on both engines.
SELECT paper_id, title, first_listed_on, published_on
FROM paper_summary
WHERE first_listed_on BETWEEN :from AND :to
ORDER BY first_listed_on, paper_id;
