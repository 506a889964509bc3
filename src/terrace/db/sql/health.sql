-- name: versions
SELECT current_setting('server_version') AS postgres,
       (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis;

-- name: workers_seen
SELECT count(*) AS seen
FROM app.workers
WHERE stopped_at IS NULL AND last_seen_at > now() - interval '60 seconds';
