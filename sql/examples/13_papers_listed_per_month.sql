-- Question: how many papers were listed each month for the first time, and what share of the papers listed
-- that month link their code on GitHub?
-- Reads: listing_months (by listing date, so every paper counts; the row with a NULL month is the pages without
-- a listing date).
SELECT month, papers_first_listed, papers_listed, listings, papers_with_code, code_share
FROM listing_months
ORDER BY month IS NULL, month;
