"""A release's whole history is its job's timeline: submitted, processed, then each review action
with the actor who took it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points


def events(api: httpx.Client, key: str, job_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/jobs/{job_id}/events", headers=bearer(key))
    assert response.status_code == 200, response.text
    return list(response.json())


def test_submit_process_approve_revoke_and_unpublish_read_as_one_timeline_with_actors(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, submitter, reviewer, admin = (
        platform_api,
        keys[Role.submitter],
        keys[Role.reviewer],
        keys[Role.admin],
    )
    upload(api, submitter, write_points(tmp_path / "points.gpkg", 20), "floods/points.gpkg")
    submitted = submit(api, submitter, "floods/points.gpkg").json()
    wait_done(api, submitter, submitted["request_id"])
    release, job = submitted["release_id"], submitted["job_id"]
    assert approve(api, reviewer, release).status_code == 200
    body = {"release_id": release, "reason": "wrong extent"}
    assert api.post("/api/platform/revoke", json=body, headers=bearer(reviewer)).status_code == 200
    body = {"release_id": release, "dry_run": False}
    assert api.post("/api/platform/unpublish", json=body, headers=bearer(reviewer)).status_code == 200

    timeline = events(api, admin, job)
    kinds = [event["kind"] for event in timeline]
    assert kinds[0] == "job_created"
    assert "task_completed" in kinds
    review = [event for event in timeline if event["kind"].startswith("release_")]
    assert [event["kind"] for event in review] == [
        "release_approved",
        "release_revoked",
        "release_unpublished",
    ]
    assert kinds.index("release_approved") > max(
        i for i, kind in enumerate(kinds) if kind == "task_completed"
    )

    approved, revoked, unpublished = (event["data"] for event in review)
    assert approved["actor"].startswith("test reviewer") and approved["version_id"] == "v1"
    assert revoked["actor"].startswith("test reviewer") and review[1]["message"] == "wrong extent"
    assert unpublished["actor"].startswith("test reviewer")
    assert unpublished["tables"] == ["geo_draft.floods_jakarta_v1"]
    assert timeline[0]["data"]["actor"]  # who submitted

    # The status API names the same job, and a reader who may see the release reads its timeline too.
    status = api.get(f"/api/platform/status/{submitted['request_id']}", headers=bearer(submitter)).json()
    assert status["job"]["job_id"] == job
    assert [e["kind"] for e in events(api, submitter, job)] == kinds
