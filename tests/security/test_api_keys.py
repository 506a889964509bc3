"""API keys with an expiry, listed and revoked by admins: an expired key is a 401 saying so, the
listing never shows a secret or hash, and only admins may list or revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from terrace.auth import Role, create_key
from tests.conftest import bearer


def test_an_expired_key_is_refused_saying_it_expired(api: httpx.Client, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        _, expired = create_key(conn, "old laptop", Role.admin, datetime.now(UTC) - timedelta(minutes=1))
        _, current = create_key(conn, "new laptop", Role.reader, datetime.now(UTC) + timedelta(days=30))
    response = api.get("/api/jobs", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["code"] == "KEY_EXPIRED"
    assert "'old laptop' expired at" in response.json()["message"]
    assert "(key expired)" in response.json()["message"]
    assert api.get("/api/jobs", headers=bearer(current)).status_code == 200


def test_admins_list_keys_without_secrets_and_revoke_them(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    expires = datetime.now(UTC) + timedelta(days=7)
    with psycopg.connect(database_url) as conn:
        key_id, key = create_key(conn, "ci pipeline", Role.submitter, expires)
    assert api.get("/api/jobs", headers=bearer(key)).status_code == 200

    listed = api.get("/api/admin/keys", headers=bearer(keys[Role.admin]))
    assert listed.status_code == 200
    row = next(k for k in listed.json() if k["key_id"] == key_id)
    assert row["name"] == "ci pipeline" and row["role"] == "submitter" and row["revoked_at"] is None
    assert abs(datetime.fromisoformat(row["expires_at"]) - expires) < timedelta(seconds=1)
    assert row["last_used_at"] is not None and row["created_at"]
    assert set(row) == {"key_id", "name", "role", "created_at", "expires_at", "last_used_at", "revoked_at"}
    secrets = [k.split("_", 2)[2] for k in [key, *keys.values()]]
    assert not any(secret in listed.text for secret in secrets)
    with psycopg.connect(database_url) as conn:
        hashes = [h for (h,) in conn.execute("SELECT key_hash FROM app.api_keys")]
    assert not any(h in listed.text for h in hashes)

    assert api.delete(f"/api/admin/keys/{key_id}", headers=bearer(keys[Role.admin])).status_code == 204
    refused = api.get("/api/jobs", headers=bearer(key))
    assert refused.status_code == 401 and "unknown or revoked" in refused.json()["message"]
    again = api.delete(f"/api/admin/keys/{key_id}", headers=bearer(keys[Role.admin]))
    assert again.status_code == 404
    rows = api.get("/api/admin/keys", headers=bearer(keys[Role.admin])).json()
    assert next(k for k in rows if k["key_id"] == key_id)["revoked_at"] is not None


def test_only_admins_list_or_revoke_keys(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    admin_id = keys[Role.admin].split("_")[1]
    for role in (Role.reader, Role.submitter, Role.reviewer):
        assert api.get("/api/admin/keys", headers=bearer(keys[role])).status_code == 403
        assert api.delete(f"/api/admin/keys/{admin_id}", headers=bearer(keys[role])).status_code == 403
    assert api.get("/api/admin/keys").status_code == 401
    assert api.delete(f"/api/admin/keys/{admin_id}").status_code == 401
    assert api.get("/api/jobs", headers=bearer(keys[Role.admin])).status_code == 200


def test_an_expired_key_signs_its_web_session_out(api: httpx.Client, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        key_id, key = create_key(conn, "short", Role.reader, datetime.now(UTC) + timedelta(hours=1))
    form = api.get("/interface/login")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    signed = api.post("/interface/login", data={"key": key, "csrf": csrf, "next": "/interface/"})
    assert signed.status_code == 303
    assert api.get("/interface/").status_code == 200
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE app.api_keys SET expires_at = now() WHERE key_id = %s", (key_id,))
    assert api.get("/interface/").status_code == 303
