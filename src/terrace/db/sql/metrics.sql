-- name: queue
-- Waiting tasks by job type: how many, and how long the oldest has waited (from when it could run).
SELECT j.job_type, count(*) AS depth,
       coalesce(extract(epoch FROM clock_timestamp() - min(t.run_after)), 0)::float8 AS oldest_seconds
FROM app.tasks t JOIN app.jobs j USING (job_id)
WHERE t.status = 'queued' AND t.run_after <= clock_timestamp()
GROUP BY j.job_type;
