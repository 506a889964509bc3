"""`terrace keys create|list|revoke`: expiry by lifetime or date, a listing without secrets, and
revocation by name."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta

from tests.e2e.test_up import terrace


def create(env: dict[str, str], role: str, name: str, *options: str) -> subprocess.CompletedProcess[str]:
    return terrace("keys", "create", "--role", role, "--name", name, *options, env=env)


def listed_row(env: dict[str, str], name: str) -> str:
    return next(line for line in terrace("keys", "list", env=env).stdout.splitlines() if line.endswith(name))


def test_keys_with_expiry_are_listed_and_revoked_by_name(owner_database_url: str) -> None:
    env = dict(os.environ, TERRACE_DATABASE_URL=owner_database_url)
    created = create(env, "reviewer", "ops laptop", "--expires-in", "30d")
    assert created.returncode == 0, created.stderr
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"expires: {in_30_days}" in created.stdout
    key = re.search(r"key:\s+(\S+)", created.stdout)
    assert key is not None
    assert "expires: 2031-05-01 00:00" in create(env, "reader", "audit", "--expires-at", "2031-05-01").stdout

    listed = terrace("keys", "list", env=env).stdout
    assert listed.splitlines()[0].split()[2:] == [
        "ROLE",
        "CREATED",
        "EXPIRES",
        "LAST",
        "USED",
        "REVOKED",
        "NAME",
    ]
    row = listed_row(env, "ops laptop")
    assert "reviewer" in row and in_30_days in row
    assert key[1] not in listed and key[1].split("_", 2)[2] not in listed

    revoked = terrace("keys", "revoke", "ops laptop", env=env)
    assert revoked.returncode == 0 and revoked.stdout.startswith("Revoked ")
    assert listed_row(env, "ops laptop").split()[-4] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert terrace("keys", "revoke", "ops laptop", env=env).returncode != 0


def test_ambiguous_names_and_bad_lifetimes_are_refused(owner_database_url: str) -> None:
    env = dict(os.environ, TERRACE_DATABASE_URL=owner_database_url)
    for _ in range(2):
        create(env, "reader", "twin")
    ambiguous = terrace("keys", "revoke", "twin", env=env)
    assert ambiguous.returncode != 0 and "2 active keys are named 'twin'" in ambiguous.stderr
    bad = create(env, "reader", "x", "--expires-in", "30 parsecs")
    assert bad.returncode != 0 and "90m, 12h, 30d or 8w" in bad.stderr
