-- Question: which papers are about :terms (for example "diffusion distillation"), best match first?
-- (PostgreSQL: tsvector; papers-etl query -f FILE -p terms "diffusion distillation")
-- Reads: papers.search_vector (generated from title, weight A, and abstract, weight B; GIN-indexed).
-- Every word must match, stemmed with the English dictionary ("distilled" finds "distillation").
SELECT p.paper_id, p.title, p.published_on
FROM papers AS p, plainto_tsquery('english', :terms) AS q
WHERE p.search_vector @@ q
ORDER BY ts_rank(p.search_vector, q) DESC, p.paper_id
LIMIT 20;
