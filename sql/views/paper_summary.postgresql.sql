-- paper_summary: one row per paper, with its abstract, its GitHub repository and how often and when it was listed.
-- repo is the alphabetically first of the paper's GitHub repositories (byte order); NULL when it has none.
-- has_code is 1 when it links a GitHub repository, else 0; best_position is its best (smallest) place on a page.
-- days_listed, first_listed_on and last_listed_on ignore pages without a listing date.
-- authors are the names a capture gave (papers API, saved pages), in order, comma separated; NULL when unknown.
-- hf_url is the paper's Hugging Face page where its arXiv id is known; latest_upvotes are those of the
-- latest capture that showed upvotes (capture time, else the file's time, else the load's), max_upvotes the most.
-- (PostgreSQL version: COLLATE "C" makes MIN(repo) byte order, as on SQLite, whatever the database collation.)
CREATE VIEW paper_summary AS
SELECT
    p.paper_id,
    p.arxiv_id,
    CASE WHEN p.arxiv_id IS NOT NULL THEN 'https://huggingface.co/papers/' || p.arxiv_id END AS hf_url,
    p.title,
    p.abstract,
    p.published_on,
    p.author_count,
    (
        SELECT string_agg(a.name, ', ' ORDER BY a.position) FROM paper_authors AS a WHERE a.paper_id = p.paper_id
    ) AS authors,
    links.repo,
    CASE WHEN links.github_repo_count > 0 THEN 1 ELSE 0 END AS has_code,
    CAST(COALESCE(links.github_repo_count, 0) AS INTEGER) AS github_repo_count,
    CAST(COALESCE(links.link_count, 0) AS INTEGER) AS link_count,
    CAST(COALESCE(seen.times_listed, 0) AS INTEGER) AS times_listed,
    CAST(COALESCE(seen.days_listed, 0) AS INTEGER) AS days_listed,
    seen.best_position,
    seen.first_listed_on,
    seen.last_listed_on,
    (
        SELECT u.upvotes
        FROM listings AS u
        JOIN source_files AS uf ON uf.source_file_id = u.source_file_id
        WHERE u.paper_id = p.paper_id AND u.upvotes IS NOT NULL
        ORDER BY COALESCE(uf.captured_at, uf.modified_at, uf.loaded_at) DESC, uf.source_file_id DESC, u.position
        LIMIT 1
    ) AS latest_upvotes,
    seen.max_upvotes
FROM papers AS p
LEFT JOIN (
    SELECT
        paper_id,
        MIN(repo COLLATE "C") AS repo,
        COUNT(DISTINCT repo) AS github_repo_count,
        COUNT(*) AS link_count
    FROM paper_links
    GROUP BY paper_id
) AS links ON links.paper_id = p.paper_id
LEFT JOIN (
    SELECT
        l.paper_id,
        COUNT(*) AS times_listed,
        COUNT(DISTINCT COALESCE(l.listed_on, f.listed_on)) AS days_listed,
        MIN(l.position) AS best_position,
        MIN(COALESCE(l.listed_on, f.listed_on)) AS first_listed_on,
        MAX(COALESCE(l.listed_on, f.listed_on)) AS last_listed_on,
        MAX(l.upvotes) AS max_upvotes
    FROM listings AS l
    JOIN source_files AS f ON f.source_file_id = l.source_file_id
    GROUP BY l.paper_id
) AS seen ON seen.paper_id = p.paper_id
