-- name: start_session
INSERT INTO app.web_sessions (session_hash, key_id, expires_at)
VALUES (%(session_hash)s, %(key_id)s, now() + make_interval(secs => %(lifetime)s));

-- name: end_expired_sessions
DELETE FROM app.web_sessions WHERE expires_at <= now();

-- name: session_key
SELECT k.key_hash
FROM app.web_sessions s JOIN app.api_keys k USING (key_id)
WHERE s.session_hash = %(session_hash)s AND s.expires_at > now();

-- name: end_session
DELETE FROM app.web_sessions WHERE session_hash = %(session_hash)s;
