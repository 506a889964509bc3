"""The three kinds of task failure through a real worker and the Jobs API: an input error fails the
job at once saying what to fix; a cut database connection is retried with backoff; an internal
error is retried once and told only by a reference, whose traceback admins read in the job's
events and operators in the worker log."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.orchestration.demo import with_demos
from terrace.orchestration.failures import classify
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config: AppConfig) -> AppConfig:
    """The API with the demonstration job types registered."""
    return replace(app_config, registry=with_demos(default_registry()))


def run(api: httpx.Client, keys: dict[Role, str], params: dict[str, Any]) -> dict[str, Any]:
    """Submit a fail_test job and wait until it ends; its status as an admin reads it."""
    admin = bearer(keys[Role.admin])
    job_id = api.post("/api/jobs/submit/fail_test", json=params, headers=admin).json()["job_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}", headers=admin).json()
        if job["status"] in ("completed", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(job)


def events(api: httpx.Client, key: str, job_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/jobs/{job_id}/events", headers=bearer(key))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def kinds(api: httpx.Client, keys: dict[Role, str], job_id: str) -> list[str]:
    return [e["kind"] for e in events(api, keys[Role.admin], job_id) if e["stage"] == 2]


def test_an_input_error_fails_the_job_at_once_and_names_what_to_fix(
    platform_api: httpx.Client, keys: dict[Role, str]
) -> None:
    job = run(platform_api, keys, {"always": True, "error": "input"})
    assert job["status"] == "failed"
    assert job["error"] == {
        "code": "INVALID_INPUT",
        "category": "input",
        "message": "planned.csv, feature 7: column 'depth' holds 'deep', which is not a number.",
        "remediation": "Correct the value in column 'depth' (or leave it empty) and submit the file again.",
        "user_fixable": True,
        "task_id": f"{job['job_id']}:2:0",
        "stage": 2,
        "attempts": 1,
    }
    assert kinds(platform_api, keys, job["job_id"])[-3:] == ["task_started", "task_failed", "job_failed"]


def test_a_cut_database_connection_is_retried_with_backoff_until_it_succeeds(
    platform_api: httpx.Client, keys: dict[Role, str]
) -> None:
    job = run(platform_api, keys, {"fail_times": 2, "error": "transient"})
    assert job["status"] == "completed", job["error"]
    assert job["result"] == {"results": [{"succeeded_on_attempt": 3}]}
    retries = [e for e in events(platform_api, keys[Role.admin], job["job_id"]) if e["kind"] == "task_retry"]
    assert [r["data"]["retry_in_seconds"] for r in retries] == [0.2, 0.4]  # the job type's backoff
    assert {r["message"] for r in retries} == {"The database was not available to a fail_test task."}


def test_a_library_error_of_a_cut_connection_is_transient(database_url: str, storage: Storage) -> None:
    with pytest.raises(psycopg.OperationalError) as cut:
        with psycopg.connect(database_url) as conn:
            conn.execute(sql.SQL("SELECT pg_terminate_backend(pg_backend_pid())"))
    failure = classify(cut.value, storage, "running the load stage of a process_vector job")
    assert failure.max_attempts is None and failure.error["category"] == "transient"
    assert failure.error["message"] == (
        "Terrace lost its connection to the database while running the load stage of a process_vector job."
    )


def test_an_internal_error_is_retried_once_and_told_by_a_reference(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="terrace.orchestration.failures")
    api, job = platform_api, run(platform_api, keys, {"always": True})  # the job type allows 3 attempts
    assert job["status"] == "failed"
    error = job["error"]
    reference = error["reference"]
    assert error["code"] == "INTERNAL_ERROR" and error["attempts"] == 2 and not error["user_fixable"]
    assert error["message"] == (
        "Terrace hit an internal error while running the flaky stage of a fail_test job; "
        f"reference {reference}."
    )
    assert kinds(api, keys, job["job_id"]) == [
        "stage_started",
        "task_queued",
        "task_started",
        "internal_error",
        "task_retry",
        "task_started",
        "internal_error",
        "task_failed",
        "job_failed",
    ]

    incidents = [e for e in events(api, keys[Role.admin], job["job_id"]) if e["kind"] == "internal_error"]
    assert incidents[-1]["data"]["reference"] == reference
    assert "RuntimeError: planned failure on attempt 2" in incidents[-1]["data"]["traceback"]
    (logged,) = [r for r in caplog.records if reference in r.getMessage()]
    assert logged.exc_info is not None and "planned failure on attempt 2" in str(logged.exc_info[1])

    submitter = keys[Role.submitter]
    status = api.get(f"/api/jobs/{job['job_id']}", headers=bearer(submitter))
    assert status.status_code == 200 and status.json()["error"] == error
    tasks = api.get(f"/api/jobs/{job['job_id']}/tasks", headers=bearer(submitter)).text
    seen = [status.text, tasks, str(events(api, submitter, job["job_id"]))]
    for leak in ("Traceback", "RuntimeError", "hunter2", "postgresql://", "file://", str(storage.local_root)):
        assert all(leak not in text for text in seen), leak
    assert [e for e in events(api, submitter, job["job_id"]) if e["kind"] == "internal_error"] == [
        {**incident, "message": None, "data": {}} for incident in incidents
    ]
