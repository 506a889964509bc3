"""The Jobs API over HTTP with a worker: submit, status, events, tasks, cancel, resubmit, roles."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.orchestration.demo import with_demos
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config: AppConfig) -> AppConfig:
    """The API with the demonstration job types registered."""
    return replace(app_config, registry=with_demos(default_registry()))


def wait(api: httpx.Client, key: str, job_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(job)


def test_submit_follow_and_inspect_a_job(platform_api: httpx.Client, keys: dict[Role, str]) -> None:
    api, admin, reader = platform_api, keys[Role.admin], keys[Role.reader]
    submitted = api.post("/api/jobs/submit/hello_world", json={"n": 5}, headers=bearer(admin))
    assert submitted.status_code == 202, submitted.text
    again = api.post("/api/jobs/submit/hello_world", json={"n": 5}, headers=bearer(admin))
    assert again.status_code == 200 and again.json()["job_id"] == submitted.json()["job_id"]
    job = wait(api, reader, submitted.json()["job_id"], {"completed"})
    assert job["result"] == {"greetings": 5, "replies": 5} and job["percent"] == 100.0
    assert [(s["stage"], s["name"], s["completed"]) for s in job["stages"]] == [
        (1, "greet", 5),
        (2, "reply", 5),
    ]
    events = api.get(f"/api/jobs/{job['job_id']}/events", headers=bearer(reader)).json()
    assert events[0]["kind"] == "job_created" and events[-1]["kind"] == "job_completed"
    assert all(e["duration_ms"] is not None for e in events if e["kind"] == "task_completed")
    tasks = api.get(f"/api/jobs/{job['job_id']}/tasks?stage=2", headers=bearer(reader)).json()
    assert len(tasks) == 5 and {t["status"] for t in tasks} == {"completed"}
    listed = api.get("/api/jobs?job_type=hello_world", headers=bearer(reader)).json()
    assert [j["job_id"] for j in listed] == [job["job_id"]]


def test_bad_submissions_say_what_is_wrong(platform_api: httpx.Client, keys: dict[Role, str]) -> None:
    headers = bearer(keys[Role.admin])
    bad = platform_api.post("/api/jobs/submit/hello_world", json={"n": "many"}, headers=headers)
    assert bad.status_code == 400 and "n:" in bad.json()["message"]
    unknown = platform_api.post("/api/jobs/submit/nope", json={}, headers=headers)
    assert unknown.status_code == 404 and "hello_world" in unknown.json()["remediation"]
    assert platform_api.post("/api/jobs/submit/hello_world", json={"n": 1}).status_code == 401
    for role in (Role.reader, Role.submitter, Role.reviewer):
        refused = platform_api.post("/api/jobs/submit/hello_world", json={"n": 1}, headers=bearer(keys[role]))
        assert refused.status_code == 403


def test_a_failed_job_shows_its_error_and_can_be_resubmitted(
    platform_api: httpx.Client, keys: dict[Role, str]
) -> None:
    api, admin = platform_api, keys[Role.admin]
    job_id = api.post("/api/jobs/submit/fail_test", json={"always": True}, headers=bearer(admin)).json()[
        "job_id"
    ]
    failed = wait(api, admin, job_id, {"failed"})
    assert failed["error"]["attempts"] == 2 and failed["error"]["code"] == "INTERNAL_ERROR"
    assert failed["last_successful_step"]["kind"] == "stage_completed"
    assert api.post(f"/api/jobs/{job_id}/resubmit", headers=bearer(keys[Role.submitter])).status_code == 403
    assert api.post(f"/api/jobs/{job_id}/resubmit", headers=bearer(admin)).status_code == 202
    assert wait(api, admin, job_id, {"failed"})["status"] == "failed"
    kinds = [e["kind"] for e in api.get(f"/api/jobs/{job_id}/events", headers=bearer(admin)).json()]
    assert kinds.count("job_resubmitted") == 1 and kinds.count("job_failed") == 2


def test_cancel_stops_a_job(platform_api: httpx.Client, keys: dict[Role, str]) -> None:
    api, admin = platform_api, keys[Role.admin]
    job_id = api.post(
        "/api/jobs/submit/phases_test", json={"phases": 20, "seconds_per_phase": 0.2}, headers=bearer(admin)
    ).json()["job_id"]
    wait(api, admin, job_id, {"running"})
    assert api.post(f"/api/jobs/{job_id}/cancel", headers=bearer(admin)).json()["cancelled"] is True
    time.sleep(0.5)
    assert api.get(f"/api/jobs/{job_id}", headers=bearer(admin)).json()["status"] == "cancelled"


def test_the_repair_report_downloads_as_csv(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    bowtie = '{"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}'
    body = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        + bowtie
        + "}]}"
    )
    api.put("/api/storage/bronze/x/bowtie.geojson", content=body.encode(), headers=bearer(submitter))
    body = {"dataset_id": "x", "resource_id": "y", "file_name": "x/bowtie.geojson"}
    job_id = api.post("/api/platform/submit", json=body, headers=bearer(submitter)).json()["job_id"]
    wait(api, submitter, job_id, {"awaiting_approval"})
    report = api.get(f"/api/jobs/{job_id}/repair-report.csv", headers=bearer(submitter))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines() == ["source_fid,reason", "0,GEOMETRY_REPAIRED"]
