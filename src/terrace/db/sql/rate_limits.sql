-- name: asynchronous_commit
SET LOCAL synchronous_commit = off;

-- name: incr
-- One atomic step of a fixed window: a new or expired window starts at `amount`, a live one adds it.
INSERT INTO app.rate_limit_counters AS c (key, hits, expires_at)
VALUES (%(key)s, %(amount)s, clock_timestamp() + make_interval(secs => %(expiry)s))
ON CONFLICT (key) DO UPDATE
SET hits = CASE WHEN c.expires_at <= clock_timestamp() THEN excluded.hits ELSE c.hits + excluded.hits END,
    expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE c.expires_at END
RETURNING hits;

-- name: get
SELECT hits FROM app.rate_limit_counters WHERE key = %(key)s AND expires_at > clock_timestamp();

-- name: get_expiry
SELECT extract(epoch FROM expires_at)::float8 AS expires_at FROM app.rate_limit_counters
WHERE key = %(key)s AND expires_at > clock_timestamp();

-- name: clear
DELETE FROM app.rate_limit_counters WHERE key = %(key)s;

-- name: reset
DELETE FROM app.rate_limit_counters;

-- name: sweep
DELETE FROM app.rate_limit_counters WHERE expires_at < clock_timestamp();

-- name: check
SELECT 1 AS ok;
