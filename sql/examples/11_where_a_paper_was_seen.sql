-- Question: on which pages (file, listing date, position, line) was a given paper seen? (here paper 1)
-- Reads: listings and source_files: the provenance of every sighting, raw text kept as captured.
SELECT f.path, f.layout, f.listed_on, l.position, l.line_no, l.raw_title
FROM listings AS l
JOIN source_files AS f ON f.source_file_id = l.source_file_id
WHERE l.paper_id = 1
ORDER BY f.listed_on NULLS LAST, f.source_file_id, l.position;
