"""What the benchmarks share: run one job on real worker processes and time it from submit to done."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from terrace.db.cluster import LocalCluster
from terrace.db.database import ensure_database
from terrace.db.roles import ROLES, enable_logins
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float  # of the largest worker
    stages: str


def run_job(
    url: str, storage: Storage, job_type: str, params: dict[str, Any], workers: int, concurrency: int
) -> Timed:
    """Start the workers, wait until they registered, then submit and time the job to completion."""
    env = dict(os.environ, **role_env(url), TERRACE_STORAGE_URL=storage.root_url)
    command = [sys.executable, "-m", "terrace", "worker", "--concurrency", str(concurrency)]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    try:
        _wait(url, "SELECT count(*) >= %s FROM app.workers WHERE stopped_at IS NULL", workers)
        started = time.perf_counter()
        with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
            job_id, _ = CoreMachine(default_registry(), storage).submit(conn, job_type, params)
        _wait(url, "SELECT status::text IN ('completed', 'failed') FROM app.jobs WHERE job_id = %s", job_id)
        elapsed = time.perf_counter() - started
        rss = max(peak_rss_mb(p.pid) for p in processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status::text FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
    if row is None or row[0] != "completed":
        raise SystemExit(f"terrace job {job_id} did not complete")
    return Timed(elapsed, rss, stage_times(url, job_id))


def _wait(url: str, query: str, arg: object) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not conn.execute(query, (arg,)).fetchone()[0]:  # type: ignore[index]
            time.sleep(0.05)


def stage_times(url: str, job_id: str) -> str:
    """Wall time of each stage (first task started to last task finished) and its longest task."""
    query = (
        "SELECT t.stage, count(*), extract(epoch FROM max(t.finished_at) - min(t.started_at)), "
        "extract(epoch FROM max(t.finished_at - t.started_at)), "
        "(SELECT count(DISTINCT e.data->>'worker') FROM app.job_events e "
        " WHERE e.job_id = t.job_id AND e.stage = t.stage AND e.kind = 'task_started') "
        "FROM app.tasks t WHERE t.job_id = %s GROUP BY t.job_id, t.stage ORDER BY t.stage"
    )
    with psycopg.connect(url) as conn:
        rows = conn.execute(query, (job_id,)).fetchall()
    return ", ".join(
        f"stage {stage} ({tasks} tasks on {workers} workers) {seconds:.2f} s (longest task {longest:.2f} s)"
        for stage, tasks, seconds, longest, workers in rows
    )


def peak_rss_mb(pid: int) -> float:
    """High-water resident memory of a running process, in MB; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def print_result(metric: str, unit: str, peer: str, ratios: dict[str, tuple[float, float]]) -> None:
    """SPEC §15's RESULT line for the case where Terrace fares worst against its peer;
    `metric` may name that case with `{case}`."""
    worst = min(ratios, key=lambda case: ratios[case][0] / ratios[case][1])
    ours, theirs = ratios[worst]
    print(
        f"RESULT name={metric.format(case=worst)} value={ours:.1f} unit={unit} peer={peer} "
        f"peer_value={theirs:.1f} ratio={ours / theirs:.2f}"
    )


def role_env(url: str) -> dict[str, str]:
    """The environment that makes `terrace api` and `terrace worker` connect as Terrace's roles."""
    urls = enable_logins(url, {role: secrets.token_urlsafe(16) for role in ROLES})
    return {
        "TERRACE_APP_DATABASE_URL": urls.app,
        "TERRACE_SERVING_DATABASE_URL": urls.serving,
        "TERRACE_PREVIEW_DATABASE_URL": urls.preview,
    }


def exit_on_sigterm() -> None:
    """A `kill` (SIGTERM) ends the benchmark like Ctrl-C, through its cleanup: without this its
    throwaway cluster would keep running and its data directory would stay behind."""
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))


@contextmanager
def bench_cluster() -> Iterator[tuple[LocalCluster, str, Path]]:
    """A durable throwaway cluster with an ensured database `bench`: (cluster, its URL, a scratch
    folder); all of it is deleted afterwards, also when the benchmark is killed."""
    exit_on_sigterm()
    home = Path(tempfile.mkdtemp(prefix="terrace-bench-"))
    cluster = LocalCluster(home)
    cluster.start()
    try:
        cluster.create_database("bench")
        url = cluster.url("bench")
        ensure_database(url)
        yield cluster, url, home
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)
