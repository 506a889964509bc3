"""Rate limits shared by API servers, one request id from a submit call to the worker's log lines,
and Prometheus metrics of API and worker processes (real `terrace api` and worker processes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from psycopg.rows import dict_row

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.db.roles import RoleUrls
from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import LiveServer, bearer
from tests.e2e.processes import ROOT, api_command, environment, running, wait_ready
from tests.security.test_sessions import sign_in
from tests.workers import wait_for_job

METRICS_TOKEN = "scrape-token-for-tests"
POINTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.8 + i / 10, -6.2]},
            "properties": {"n": i},
        }
        for i in range(5)
    ],
}


def test_a_burst_over_the_limit_is_refused_by_every_api_server_sharing_it(
    app_config: AppConfig, keys: dict[Role, str]
) -> None:
    limited = replace(app_config, rate_limits={"searches": "6/minute"})
    with LiveServer(limited) as a, LiveServer(limited) as b:
        answers = [httpx.get(f"{server.url}/stac/search", timeout=30) for server in (a, b) * 5]
        statuses = [r.status_code for r in answers]
        assert statuses == [200] * 6 + [429] * 4, statuses
        refused = answers[-1]
        assert int(refused.headers["Retry-After"]) in range(1, 61)
        body = refused.json()
        assert body["code"] == "RATE_LIMITED" and "6 per 1 minute" in body["message"]
        assert "TERRACE_RATE_LIMITS" in body["remediation"]
        assert refused.headers["X-Request-ID"]
        # Another caller has a limit of its own, and other route groups are not counted.
        assert (
            httpx.get(f"{b.url}/stac/search", headers=bearer(keys[Role.reader]), timeout=30).status_code
            == 200
        )
        assert httpx.get(f"{a.url}/stac/collections", timeout=30).status_code == 200


def test_one_request_id_leads_from_the_submit_call_to_the_workers_log_lines_and_metrics_count_both(
    databases: RoleUrls, storage: Storage, keys: dict[Role, str], tmp_path: Path
) -> None:
    storage_root = Path(storage.root_url.removeprefix("file://"))
    (tmp_path / "metrics").mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = environment(
        databases,
        storage_root,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        TERRACE_METRICS_TOKEN=METRICS_TOKEN,
        TERRACE_RATE_LIMITS='{"searches": "2/minute"}',
    )
    api, url = api_command(env, logs / "api.log")
    worker = (["tests.demo_worker"], env, logs / "worker-1.log")
    with running(api, worker) as (api_process, _), httpx.Client(base_url=url, timeout=30) as client:
        wait_ready(url, api_process)
        submitter = bearer(keys[Role.submitter])
        put = client.put(
            "/api/storage/bronze/floods/points.geojson", content=json.dumps(POINTS), headers=submitter
        )
        assert put.status_code == 201, put.text
        trace = "submit-7f3a.b2"
        response = client.post(
            "/api/platform/submit",
            json={
                "dataset_id": "floods",
                "resource_id": "points",
                "file_name": "floods/points.geojson",
                "access_level": "public",
            },
            headers={**submitter, "X-Request-ID": trace},
        )
        assert response.status_code in (200, 201, 202), response.text
        assert response.headers["X-Request-ID"] == trace
        job_id = response.json()["job_id"]
        job = wait_for_job(databases.app, job_id)
        assert job["status"] == "awaiting_approval", job["error"]
        assert job["http_request_id"] == trace
        with psycopg.connect(databases.app) as conn:
            stored = conn.execute(
                "SELECT http_request_id FROM app.api_requests WHERE job_id = %s", (job_id,)
            ).fetchall()
            events = conn.execute(
                "SELECT kind, http_request_id FROM app.job_events WHERE job_id = %s", (job_id,)
            ).fetchall()
        assert stored == [(trace,)]
        assert len(events) > 5 and {request for _, request in events} == {trace}, events

        lines = [
            json.loads(line)
            for line in (logs / "worker-1.log").read_text().splitlines()
            if line.startswith("{")
        ]
        of_job = [line for line in lines if line.get("job_id") == job_id]
        with psycopg.connect(databases.app) as conn:
            tasks = {
                row[0] for row in conn.execute("SELECT task_id FROM app.tasks WHERE job_id = %s", (job_id,))
            }
        assert {line["task_id"] for line in of_job} == tasks
        assert {line["request_id"] for line in of_job} == {trace}
        assert all(line["level"] and line["timestamp"] for line in of_job)

        shown = subprocess.run(
            [sys.executable, "-m", "terrace", "jobs", "logs", job_id, "--logs", str(logs)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert len(shown) == len(of_job) and all(f"request_id={trace}" in line for line in shown)

        client.get("/features/collections")
        approved = client.post(
            "/api/platform/approve",
            json={"release_id": response.json()["release_id"]},
            headers=bearer(keys[Role.reviewer]),
        )
        assert approved.status_code == 200, approved.text
        assert [client.get("/stac/search").status_code for _ in range(3)] == [200, 200, 429]
        admin_key = bearer(keys[Role.admin])
        with psycopg.connect(databases.app, row_factory=dict_row) as conn, conn.transaction():
            flaky, _ = CoreMachine(with_demos(default_registry()), storage).submit(
                conn, "fail_test", {"fail_times": 1, "error": "transient"}
            )
        assert wait_for_job(databases.app, flaky)["status"] == "completed"
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=bearer(keys[Role.reviewer])).status_code == 403
        assert client.get("/metrics", headers=bearer("not-the-token")).status_code == 401
        admin = client.get("/metrics", headers=admin_key)
        scraped = client.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert admin.status_code == scraped.status_code == 200
        assert sign_in(client, keys[Role.admin]).status_code == 303
        health = client.get("/interface/health/live")
    assert re.search(r"<dt>Features ingested</dt><dd>5</dd>", health.text), health.text
    assert re.search(r"<dt>Releases approved</dt><dd>1</dd>", health.text)
    families = {family.name: family for family in text_string_to_metric_families(scraped.text)}
    requests = families["terrace_http_requests"].samples
    assert any(
        s.labels["route"] == "/api/platform/submit" and s.labels["status"] in ("201", "202", "200")
        for s in requests
    )
    assert any(s.labels["route"] == "/features/collections" for s in requests)
    durations = [s for s in families["terrace_task_duration_seconds"].samples if s.name.endswith("_count")]
    assert {s.labels["job_type"] for s in durations} == {"process_vector", "fail_test"}
    assert sum(s.value for s in durations if s.labels["job_type"] == "process_vector") == len(tasks)
    features = families["terrace_ingested_features"].samples
    assert [s.value for s in features if s.name.endswith("_total")] == [5.0]
    outcomes = families["terrace_jobs_finished"].samples
    assert any(
        s.labels == {"job_type": "process_vector", "status": "completed"} and s.value == 1 for s in outcomes
    )
    assert [s.value for s in families["terrace_task_retries"].samples if s.name.endswith("_total")] == [1.0]
    uploaded = families["terrace_ingested_bytes"].samples
    assert [(s.labels, s.value) for s in uploaded if s.name.endswith("_total")] == [
        ({"container": "bronze"}, float(len(json.dumps(POINTS))))
    ]
    assert [
        s.labels["group"] for s in families["terrace_rate_limited"].samples if s.name.endswith("_total")
    ] == ["searches"]
    assert "terrace_queue_depth" in families and "terrace_queue_oldest_age_seconds" in families
    exported = {s.name for family in families.values() for s in family.samples} | set(families)
    assert set(dashboard_metrics()) <= exported, set(dashboard_metrics()) - exported


def dashboard_metrics() -> list[str]:
    """Every metric name in the PromQL expressions of the shipped Grafana dashboard."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "terrace.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert exprs
    names = {name for expr in exprs for name in re.findall(r"\b(terrace_[a-z_]+)\b", expr)}
    assert names
    return sorted(names)
