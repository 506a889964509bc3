"""No-op task throughput: CoreMachine against procrastinate, same cluster, same worker count.

Terrace runs a two-stage hello_world job (submit → claim → complete → stage advance → complete);
procrastinate runs the same number of no-op jobs. Workers start first and are idle; the clock
runs from submit/defer to the last task done. Each worker count of `--workers` runs both, each
in a fresh database, and reports tasks/s and the database's commits per task (the delta of
pg_stat_database.xact_commit over the run, workers' heartbeats and polls included). The RESULT
line is the worker count where Terrace fares worst.

    .venv/bin/python bench/orchestration.py [--tasks 20000] [--workers 1 4 16] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from procrastinate import App, PsycopgConnector
from terrace_jobs import exit_on_sigterm, print_result, role_env

from terrace.cli.serve import run_worker
from terrace.db.cluster import LocalCluster
from terrace.db.database import ensure_database
from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage

app = App(connector=PsycopgConnector(conninfo=os.environ.get("BENCH_PROCRASTINATE_URL", "")))


@app.task(name="noop")
def noop(i: int) -> None:
    """The peer's unit of work: nothing, like hello_world's tasks."""


def spawn(command: list[str], env: dict[str, str], count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


def wait_until(url: str, query: str, target: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute(query).fetchone()[0] < target:  # type: ignore[index]
            time.sleep(0.05)


def commits(url: str) -> int:
    """Transactions committed in the database so far, once every backend flushed its counts."""
    time.sleep(1.5)  # backends report their counts at most once a second
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0])  # type: ignore[index]


def run_terrace(url: str, tasks: int, workers: int, concurrency: int) -> float:
    ensure_database(url)
    storage = Storage.local(Path(tempfile.mkdtemp()))
    env = dict(
        os.environ,
        **role_env(url),
        TERRACE_WORKER_CONCURRENCY=str(concurrency),
        TERRACE_STORAGE_URL=storage.root_url,
    )
    processes = spawn([sys.executable, __file__, "--terrace-worker"], env, workers)
    wait_until(url, "SELECT count(*) FROM app.workers WHERE stopped_at IS NULL", workers)
    before = commits(url)
    started = time.perf_counter()
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        CoreMachine(with_demos(default_registry()), storage).submit(conn, "hello_world", {"n": tasks // 2})
    wait_until(url, "SELECT count(*) FROM app.jobs WHERE status = 'completed'", 1)
    elapsed = time.perf_counter() - started
    per_task = (commits(url) - before) / tasks
    stop(processes)
    print(f"  terrace (CoreMachine, 2 stages) {tasks / elapsed:8.0f} tasks/s  {per_task:.2f} commits/task")
    return elapsed


def run_procrastinate(url: str, tasks: int, workers: int, concurrency: int) -> float:
    env = dict(os.environ, BENCH_PROCRASTINATE_URL=url)
    with app.replace_connector(PsycopgConnector(conninfo=url)) as bench_app, bench_app.open():
        bench_app.schema_manager.apply_schema()
        processes = spawn(
            [sys.executable, __file__, "--procrastinate-worker", str(concurrency)], env, workers
        )
        time.sleep(3)  # workers connect and start listening
        before = commits(url)
        started = time.perf_counter()
        for first in range(0, tasks, 5000):
            noop.batch_defer(*({"i": i} for i in range(first, min(tasks, first + 5000))))
        wait_until(url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'", tasks)
        elapsed = time.perf_counter() - started
        per_task = (commits(url) - before) / tasks
    stop(processes)
    print(f"  procrastinate                   {tasks / elapsed:8.0f} jobs/s   {per_task:.2f} commits/job")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--procrastinate-worker", type=int, metavar="CONCURRENCY")
    parser.add_argument("--terrace-worker", action="store_true", help="run `terrace worker` with hello_world")
    args = parser.parse_args()
    if args.terrace_worker:
        run_worker(with_demos(default_registry()))
        return
    if args.procrastinate_worker:
        with app.open():
            app.run_worker(concurrency=args.procrastinate_worker)
        return
    exit_on_sigterm()
    home = Path(tempfile.mkdtemp(prefix="terrace-bench-"))
    cluster = LocalCluster(home)
    cluster.start()
    print(
        f"machine: {os.cpu_count()} cores, shared; {args.tasks} no-op tasks; concurrency "
        f"{args.concurrency} per worker process; durable PostgreSQL 15 cluster"
    )
    ratios = {}
    try:
        for workers in args.workers:
            print(f"{workers} worker processes", flush=True)
            for name in (f"bench_terrace_{workers}", f"bench_procrastinate_{workers}"):
                cluster.create_database(name)
            terrace = args.tasks / run_terrace(
                cluster.url(f"bench_terrace_{workers}"), args.tasks, workers, args.concurrency
            )
            peer = args.tasks / run_procrastinate(
                cluster.url(f"bench_procrastinate_{workers}"), args.tasks, workers, args.concurrency
            )
            ratios[f"{workers}_workers"] = (terrace, peer)
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)
    print_result("orchestration_noop_throughput_{case}", "tasks/s", "procrastinate", ratios)


if __name__ == "__main__":
    main()
