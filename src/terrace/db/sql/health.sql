-- name: versions
SELECT current_setting('server_version') AS postgres,
       (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis;

-- name: workers_seen
SELECT count(*) AS seen
FROM app.workers
WHERE stopped_at IS NULL AND last_seen_at > now() - interval '60 seconds';

-- name: queue
SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'running') AS running,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at) FILTER (WHERE status = 'queued')), 0)
           AS oldest_queued_seconds
FROM app.tasks WHERE status IN ('queued', 'running');
