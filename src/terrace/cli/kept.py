"""Secrets `terrace up` keeps in its home folder, each in a file of mode 0600, made the first time."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

from terrace.db.roles import ROLES

ROLE_PASSWORDS_FILE = "db-roles.json"


def admin_key(home: Path, configured: str | None) -> str:
    """TERRACE_API_KEY, or the key kept in <home>/api_key."""
    if configured:
        return configured
    return _kept(home / "api_key", lambda: f"trc_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}")


def session_secret(home: Path, configured: str | None) -> str:
    """TERRACE_SESSION_SECRET, or the one kept in <home>/session_secret: it signs the web UI's
    session cookies, so a restarted API process keeps everyone signed in."""
    if configured:
        return configured
    return _kept(home / "session_secret", lambda: secrets.token_urlsafe(32))


def role_passwords(home: Path) -> dict[str, str]:
    """The database roles' passwords kept in <home>/db-roles.json."""
    made = _kept(
        home / ROLE_PASSWORDS_FILE,
        lambda: json.dumps({role: secrets.token_urlsafe(24) for role in ROLES}),
    )
    passwords: dict[str, str] = json.loads(made)
    return passwords


def public_reader_password(home: Path) -> str:
    """The public-zone API's database password, kept in <home>/public_reader."""
    return _kept(home / "public_reader", lambda: secrets.token_urlsafe(24))


def _kept(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make() + "\n")
    return path.read_text().strip()
