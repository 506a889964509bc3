-- name: insert_service
INSERT INTO app.services (service_id, url, name, service_type, check_url, capabilities, registered_by)
VALUES (%(service_id)s, %(url)s, %(name)s, %(service_type)s, %(check_url)s, %(capabilities)s, %(registered_by)s)
ON CONFLICT (url) DO NOTHING
RETURNING service_id;

-- name: service_by_url
SELECT service_id FROM app.services WHERE url = %(url)s;

-- name: services
-- Each service with its latest check and its uptime (share of 'up' checks) over 7 and 30 days.
SELECT s.service_id, s.url, s.name, s.service_type::text AS service_type, s.check_url, s.capabilities,
       s.registered_by, s.created_at, c.status::text AS status, c.latency_ms, c.http_status, c.error,
       c.checked_at, u.uptime_7d, u.uptime_30d
FROM app.services s
LEFT JOIN LATERAL (
  SELECT status, latency_ms, http_status, error, checked_at FROM app.service_checks
  WHERE service_id = s.service_id ORDER BY checked_at DESC LIMIT 1
) c ON true
LEFT JOIN LATERAL (
  SELECT avg((status = 'up')::int) FILTER (WHERE checked_at > now() - interval '7 days')::float AS uptime_7d,
         avg((status = 'up')::int)::float AS uptime_30d
  FROM app.service_checks
  WHERE service_id = s.service_id AND checked_at > now() - interval '30 days'
) u ON true
WHERE %(service_id)s::text IS NULL OR s.service_id = %(service_id)s
ORDER BY s.name, s.service_id;

-- name: recent_checks
SELECT status::text AS status, latency_ms, http_status, error, checked_at FROM (
  SELECT * FROM app.service_checks WHERE service_id = %(service_id)s ORDER BY checked_at DESC LIMIT %(limit)s
) recent
ORDER BY checked_at;

-- name: insert_check
INSERT INTO app.service_checks (service_id, status, latency_ms, http_status, error)
VALUES (%(service_id)s, %(status)s, %(latency_ms)s, %(http_status)s, %(error)s)
RETURNING status::text AS status, latency_ms, http_status, error, checked_at;

-- name: registered_by
SELECT registered_by FROM app.services WHERE service_id = %(service_id)s;

-- name: delete_service
DELETE FROM app.services WHERE service_id = %(service_id)s;

-- name: check_targets
SELECT service_id, check_url FROM app.services ORDER BY service_id;
