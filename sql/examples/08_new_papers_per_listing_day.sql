-- Question: on each listing day, how many papers were shown and how many of them were new?
-- Reads: listing_days. new_share is the part of the day's papers never listed on an earlier day.
SELECT
    listed_on,
    papers_listed,
    new_papers,
    CAST(new_papers AS DOUBLE PRECISION) / papers_listed AS new_share
FROM listing_days
ORDER BY listed_on;
