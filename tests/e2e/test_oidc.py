"""Bearer tokens from a real OpenID provider: a reviewer's token approves a release recorded under
its `sub`; ES256 works too; after the provider rotates its keys, a token signed by the new key is
accepted (the keys are fetched again) and one signed by the withdrawn key is not."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.oidc.provider import OidcPlatform, oidc_platform

__all__ = ["oidc_platform"]


def awaiting_review(api: httpx.Client, key: str, tmp_path: Path) -> dict[str, str]:
    upload(api, key, write_points(tmp_path / "jakarta.gpkg", 10), "floods/jakarta.gpkg")
    submitted = submit(api, key, "floods/jakarta.gpkg").json()
    assert wait_done(api, key, submitted["request_id"])["job"]["status"] == "awaiting_approval"
    return submitted


def test_a_reviewers_token_approves_and_the_actor_is_its_subject(
    oidc_platform: OidcPlatform, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, provider = oidc_platform.api, oidc_platform.provider
    submitted = awaiting_review(api, keys[Role.submitter], tmp_path)
    reader = provider.token("robot-reader-es256")
    assert approve(api, reader, submitted["release_id"]).status_code == 403

    reviewer = provider.token("robot-reviewer")
    approved = approve(api, reviewer, submitted["release_id"], version_id="v1")
    assert approved.status_code == 200, approved.text
    assert approved.json()["approval_state"] == "approved"

    job_id = wait_done(api, reviewer, submitted["request_id"])["job"]["job_id"]
    events = api.get(f"/api/jobs/{job_id}/events", headers=bearer(reviewer)).json()
    actors = {e["kind"]: e["data"].get("actor") for e in events}
    assert actors["release_approved"] == "oidc:robot-reviewer"
    with psycopg.connect(database_url) as conn:
        audit = conn.execute(
            "SELECT action::text, actor FROM app.approval_audit ORDER BY event_id"
        ).fetchall()
    assert ("approve", "oidc:robot-reviewer") in audit


def test_key_rotation_accepts_the_new_key_and_refuses_the_withdrawn_one(oidc_platform: OidcPlatform) -> None:
    api, provider = oidc_platform.api, oidc_platform.provider
    old = provider.token("robot-reader")
    assert api.get("/api/jobs", headers=bearer(old)).status_code == 200

    provider.rotate()
    time.sleep(1.1)  # the key-fetch cooldown of the test configuration
    new = provider.token("robot-reader")
    assert api.get("/api/jobs", headers=bearer(new)).status_code == 200
    refused = api.get("/api/jobs", headers=bearer(old))
    assert refused.status_code == 401
    assert "does not publish" in refused.json()["message"]


def test_an_expired_token_is_refused_with_a_clear_message(oidc_platform: OidcPlatform) -> None:
    api, provider = oidc_platform.api, oidc_platform.provider
    expired = provider.signed(exp=int(time.time()) - 61 - 60, sub="alice", roles=["reviewer"])
    response = api.get("/api/jobs", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_EXPIRED"
    assert response.json()["message"].startswith("The token expired at ")
    # Within the clock skew, a token just past its expiry still works.
    lenient = provider.signed(exp=int(time.time()) - 5, sub="alice", roles=["reader"])
    assert api.get("/api/jobs", headers=bearer(lenient)).status_code == 200
