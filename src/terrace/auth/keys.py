"""API keys: `trc_<key id>_<secret>`, of which only the SHA-256 is stored.

Keys are 256-bit random secrets, so a fast hash is safe (no dictionary to attack) and lets a
request be authenticated with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from terrace.auth.roles import Principal, Role
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound

PREFIX = "trc_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (key_id, key) pair."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def register_key(conn: Connection, key: str, name: str, role: Role) -> None:
    """Store a key chosen elsewhere (the embedded admin key); a known key is left as it is."""
    key_id = key.split("_")[1] if key.startswith(PREFIX) and key.count("_") >= 2 else hash_key(key)[:12]
    conn.execute(
        queries("auth")["insert_key"],
        {"key_id": key_id, "name": name, "role": role.value, "key_hash": hash_key(key)},
    )


def create_key(conn: Connection, name: str, role: Role) -> tuple[str, str]:
    """Create a key; returns (key_id, key). The key is shown once and never stored."""
    key_id, key = new_key()
    register_key(conn, key, name, role)
    return key_id, key


def verify_key(conn: Connection, key: str) -> Principal | None:
    return principal_of(conn, hash_key(key))


def principal_of(conn: Connection, key_hash: str) -> Principal | None:
    """The holder of the active key with this hash (sessions keep the hash, never the key)."""
    row = conn.execute(queries("auth")["find_active_key"], {"key_hash": key_hash}).fetchone()
    if row is None:
        return None
    if row["stale"] is not False:
        conn.execute(queries("auth")["touch_key"], {"key_id": row["key_id"]})
    return Principal(key_id=row["key_id"], name=row["name"], role=Role(row["role"]))


def list_keys(conn: Connection) -> list[dict]:
    return conn.execute(queries("auth")["list_keys"]).fetchall()


def revoke_key(conn: Connection, key_id: str) -> None:
    if conn.execute(queries("auth")["revoke_key"], {"key_id": key_id}).fetchone() is None:
        raise NotFound(f"No active API key {key_id!r}.", "List keys with `terrace keys list`.")
