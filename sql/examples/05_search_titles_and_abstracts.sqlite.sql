-- Question: which papers are about :terms (for example "diffusion distillation"), best match first?
-- (SQLite: FTS5; papers-etl query -f FILE -p terms "diffusion distillation")
-- Reads: papers_fts (full-text index of papers.title and papers.abstract, kept in step by triggers).
-- Every word must match, stemmed ("distilled" finds "distillation"); a title match weighs ten times an
-- abstract match. Each word of :terms is quoted ("diffusion" "distillation"), so FTS5 operators are plain words.
SELECT p.paper_id, p.title, p.published_on
FROM papers_fts
JOIN papers AS p ON p.paper_id = papers_fts.rowid
WHERE papers_fts MATCH '"' || replace(replace(trim(:terms), '"', '""'), ' ', '" "') || '"'
ORDER BY bm25(papers_fts, 10.0, 1.0), p.paper_id
LIMIT 20;
