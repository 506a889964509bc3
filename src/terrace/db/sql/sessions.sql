-- name: start_session
INSERT INTO app.web_sessions (session_hash, key_id, subject, role, expires_at)
VALUES (%(session_hash)s, %(key_id)s, %(subject)s, %(role)s, now() + make_interval(secs => %(lifetime)s));

-- name: end_expired_sessions
DELETE FROM app.web_sessions WHERE expires_at <= now();

-- name: session_holder
SELECT k.key_hash, s.subject, s.role::text AS role
FROM app.web_sessions s LEFT JOIN app.api_keys k USING (key_id)
WHERE s.session_hash = %(session_hash)s AND s.expires_at > now();

-- name: end_session
DELETE FROM app.web_sessions WHERE session_hash = %(session_hash)s;
