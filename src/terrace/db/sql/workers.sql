-- name: register
INSERT INTO app.workers (worker_id, hostname, pid, concurrency)
VALUES (%(worker_id)s, %(hostname)s, %(pid)s, %(concurrency)s);

-- name: heartbeat
UPDATE app.workers SET last_seen_at = now() WHERE worker_id = %(worker_id)s;

-- name: stopped
UPDATE app.workers SET stopped_at = now() WHERE worker_id = %(worker_id)s;
