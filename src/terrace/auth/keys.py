"""API keys: `trc_<key id>_<secret>`, of which only the SHA-256 is stored, with an optional expiry.

Keys are 256-bit random secrets, so a fast hash is safe (no dictionary to attack) and lets a
request be authenticated with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from terrace.auth.roles import Principal, Role
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, NotFound, Unauthenticated

PREFIX = "trc_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (key_id, key) pair."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def register_key(
    conn: Connection, key: str, name: str, role: Role, expires_at: datetime | None = None
) -> None:
    """Store a key chosen elsewhere (the embedded admin key); a known key is left as it is."""
    key_id = key.split("_")[1] if key.startswith(PREFIX) and key.count("_") >= 2 else hash_key(key)[:12]
    conn.execute(
        queries("auth")["insert_key"],
        {
            "key_id": key_id,
            "name": name,
            "role": role.value,
            "key_hash": hash_key(key),
            "expires_at": expires_at,
        },
    )


def create_key(
    conn: Connection, name: str, role: Role, expires_at: datetime | None = None
) -> tuple[str, str]:
    """Create a key, valid until `expires_at` (unset: until revoked); returns (key_id, key).
    The key is shown once and never stored."""
    key_id, key = new_key()
    register_key(conn, key, name, role, expires_at)
    return key_id, key


def verify_key(conn: Connection, key: str) -> Principal:
    """The holder of `key`; an unknown, revoked or expired key is refused, saying which."""
    row = _active_key(conn, hash_key(key))
    if row is None:
        raise Unauthenticated("The API key is unknown or revoked.", "Ask an admin for a valid key.")
    if row["expired"]:
        raise Unauthenticated(
            f"The API key {row['name']!r} expired at {row['expires_at'].isoformat(timespec='seconds')} "
            "(key expired).",
            "Ask an admin for a new key: `terrace keys create --expires-in 30d ...`.",
            code="KEY_EXPIRED",
        )
    return _holder(conn, row)


def principal_of(conn: Connection, key_hash: str) -> Principal | None:
    """The holder of the active, unexpired key with this hash (sessions keep the hash, never the key)."""
    row = _active_key(conn, key_hash)
    return None if row is None or row["expired"] else _holder(conn, row)


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key's name, role, dates and state; never its secret or hash."""
    return conn.execute(queries("auth")["list_keys"]).fetchall()


def revoke_key(conn: Connection, key_id: str) -> None:
    if conn.execute(queries("auth")["revoke_key"], {"key_id": key_id}).fetchone() is None:
        raise NotFound(f"No active API key {key_id!r}.", "List keys with `terrace keys list`.")


def revoke_named(conn: Connection, name_or_id: str) -> str:
    """Revoke the one active key with this name (or, failing that, this id); returns its id."""
    rows = conn.execute(queries("auth")["active_keys_named"], {"name": name_or_id}).fetchall()
    if len(rows) > 1:
        raise Conflict(
            f"{len(rows)} active keys are named {name_or_id!r}.",
            "Revoke one by its key id, as `terrace keys list` shows it.",
        )
    key_id = rows[0]["key_id"] if rows else name_or_id
    revoke_key(conn, key_id)
    return str(key_id)


def _active_key(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    return conn.execute(queries("auth")["find_active_key"], {"key_hash": key_hash}).fetchone()


def _holder(conn: Connection, row: dict[str, Any]) -> Principal:
    if row["stale"] is not False:
        conn.execute(queries("auth")["touch_key"], {"key_id": row["key_id"]})
    return Principal(key_id=row["key_id"], name=row["name"], role=Role(row["role"]))
