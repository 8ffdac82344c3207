-- Question: what did each load run do, and how many problems did it record at each level?
-- Reads: etl_runs and rejects.
SELECT
    r.run_id,
    r.status,
    r.files_loaded,
    r.papers_inserted,
    CAST(COUNT(j.reject_id) AS INTEGER) AS rejects,
    CAST(SUM(CASE WHEN j.level = 'file' THEN 1 ELSE 0 END) AS INTEGER) AS files_refused,
    CAST(SUM(CASE WHEN j.level = 'record' THEN 1 ELSE 0 END) AS INTEGER) AS records_rejected,
    CAST(SUM(CASE WHEN j.level = 'field' THEN 1 ELSE 0 END) AS INTEGER) AS fields_rejected
FROM etl_runs AS r
LEFT JOIN rejects AS j ON j.run_id = r.run_id
GROUP BY r.run_id, r.status, r.files_loaded, r.papers_inserted
ORDER BY r.run_id;
