-- name: insert_key
INSERT INTO app.api_keys (key_id, name, role, key_hash, expires_at)
VALUES (%(key_id)s, %(name)s, %(role)s, %(key_hash)s, %(expires_at)s)
ON CONFLICT (key_hash) DO NOTHING;

-- name: find_active_key
SELECT key_id, name, role::text AS role, expires_at, expires_at <= now() AS expired,
       last_used_at < now() - interval '1 minute' AS stale
FROM app.api_keys
WHERE key_hash = %(key_hash)s AND revoked_at IS NULL;

-- name: touch_key
UPDATE app.api_keys SET last_used_at = now() WHERE key_id = %(key_id)s;

-- name: list_keys
SELECT key_id, name, role::text AS role, created_at, expires_at, last_used_at, revoked_at
FROM app.api_keys
ORDER BY created_at;

-- name: active_keys_named
SELECT key_id FROM app.api_keys WHERE name = %(name)s AND revoked_at IS NULL;

-- name: revoke_key
UPDATE app.api_keys SET revoked_at = now()
WHERE key_id = %(key_id)s AND revoked_at IS NULL
RETURNING key_id;
