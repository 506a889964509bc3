"""Terrace on the multi-host harness (tests/cluster): overhead and fairness across worker hosts.

Hosts are network namespaces on one machine (root needed): PostgreSQL on `db`, `terrace api` on
`api`, workers on `w1`..`w3`, started from deploy/systemd's units. With 1, 2 and 3 worker hosts it
measures no-op tasks/s (hello_world: submit → claim → complete → stage advance) and a 1M-point
GeoPackage ingest submitted through the API host, and reports the tasks each host ran; with 3
hosts, the time from a job's submission to its first task's claim on a worker host. All hosts
share this machine's cores, so more hosts show overhead and fairness, not speed-up. The peer is
one worker host, measured in the same run.

    .venv/bin/python bench/cluster.py [--tasks 2000] [--points 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.rows import dict_row
from vector_ingest import generate

from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/cluster

from tests.cluster.deployment import Deployment, Options  # noqa: E402
from tests.cluster.network import available  # noqa: E402

MACHINE = CoreMachine(with_demos(default_registry()), Storage("file:///nonexistent"))


def submit(deployment: Deployment, job_type: str, params: dict[str, object]) -> str:
    with psycopg.connect(deployment.databases.app, row_factory=dict_row) as conn:
        return MACHINE.submit(conn, job_type, params)[0]


def wait_finished(deployment: Deployment, job_id: str, timeout: float = 1800) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    with deployment.db() as conn:
        while time.monotonic() < deadline:
            job = conn.execute("SELECT * FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
            if job and job["status"] in ("completed", "awaiting_approval", "failed"):
                assert job["status"] != "failed", job["error"]
                return job
            time.sleep(0.05)
    raise TimeoutError(job_id)


def per_host(deployment: Deployment, job_id: str) -> dict[str, int]:
    with deployment.db() as conn:
        rows = conn.execute(
            "SELECT split_part(data ->> 'worker', '-', 1) AS host, count(*) AS n FROM app.job_events "
            "WHERE job_id = %s AND kind = 'task_started' GROUP BY 1 ORDER BY 1",
            (job_id,),
        ).fetchall()
    return {r["host"]: r["n"] for r in rows}


def noop(deployment: Deployment, tasks: int, run: int) -> tuple[float, dict[str, int]]:
    """tasks/s of a hello_world job of about `tasks` tasks (two stages of n), and tasks per host;
    `run` makes each job's parameters, hence its id, its own."""
    n = tasks // 2 + run
    started = time.perf_counter()
    job_id = submit(deployment, "hello_world", {"n": n})
    wait_finished(deployment, job_id)
    return 2 * n / (time.perf_counter() - started), per_host(deployment, job_id)


def ingest(deployment: Deployment, file: str, points: int, resource: str) -> tuple[float, dict[str, int]]:
    """Points/s of process_vector submitted through the API host, from submit to awaiting approval."""
    with deployment.client() as client:
        started = time.perf_counter()
        response = client.post(
            "/api/platform/submit",
            json={
                "dataset_id": "bench",
                "resource_id": resource,
                "file_name": file,
                "access_level": "public",
            },
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
    wait_finished(deployment, job_id)
    return points / (time.perf_counter() - started), per_host(deployment, job_id)


def first_claim_latency(deployment: Deployment, runs: int) -> float:
    """Median seconds from a job's creation (database clock) to its first task's claim on a worker host."""
    latencies = []
    for run in range(runs):
        job_id = submit(deployment, "hello_world", {"n": 1 + run})
        wait_finished(deployment, job_id)
        with deployment.db() as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM min(created_at) FILTER (WHERE kind = 'task_started') "
                "- min(created_at) FILTER (WHERE kind = 'job_created')) AS seconds "
                "FROM app.job_events WHERE job_id = %s",
                (job_id,),
            ).fetchone()
        latencies.append(float(row["seconds"]))
        time.sleep(0.5)  # the workers go idle again, waiting on LISTEN
    return statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    reason = available()
    if reason:
        sys.exit(f"bench/cluster.py: {reason}")
    deployment = Deployment(Options(worker_module="tests.demo_worker", lease_seconds=30, janitor_seconds=5))
    try:
        deployment.start()
        with tempfile.TemporaryDirectory() as folder:
            source = generate(Path(folder) / "points.gpkg", args.points, polygons=False)
            with deployment.client() as client:
                uploaded = client.put("/api/storage/bronze/bench/points.gpkg", content=source.read_bytes())
                assert uploaded.status_code == 201, uploaded.text
        tasks_per_s: dict[int, float] = {}
        points_per_s: dict[int, float] = {}
        for hosts in (1, 2, 3):
            deployment.scale(hosts)
            tasks_per_s[hosts], noop_hosts = noop(deployment, args.tasks, hosts)
            points_per_s[hosts], ingest_hosts = ingest(
                deployment, "bench/points.gpkg", args.points, f"p{hosts}"
            )
            print(
                f"{hosts} worker host(s): no-op {tasks_per_s[hosts]:.0f} tasks/s {noop_hosts}; "
                f"1M-point ingest {points_per_s[hosts]:.0f} points/s {ingest_hosts}",
                flush=True,
            )
        latency = first_claim_latency(deployment, 10)
        print(f"submit to first claim on a worker host (3 hosts idle, median of 10): {latency * 1000:.0f} ms")
    finally:
        deployment.stop()
    print(
        f"RESULT name=cluster_noop_throughput_3_hosts value={tasks_per_s[3]:.0f} unit=tasks/s peer=one-host "
        f"peer_value={tasks_per_s[1]:.0f} ratio={tasks_per_s[3] / tasks_per_s[1]:.2f}"
    )


if __name__ == "__main__":
    main()
