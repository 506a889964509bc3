"""A worker process: claims tasks, runs their handlers in threads, reports outcomes in batches.

Threads: the main loop (each turn reports what finished and claims for the free slots, in one
transaction), one handler thread per slot, a heartbeat that extends the leases of every running
task (it keeps running while a handler sits in a C library call that releases the GIL), a
LISTEN connection that wakes the loop when tasks are queued, and the janitor, which works only
while this worker holds the leader lock.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from terrace.db.pool import Pool, connect, open_pool
from terrace.db.queries import queries
from terrace.observability.metrics import TASK_DURATION
from terrace.orchestration.context import TaskRun
from terrace.orchestration.definitions import Json
from terrace.orchestration.failures import Failure, classify
from terrace.orchestration.janitor import Janitor
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.registry import JobRegistry
from terrace.orchestration.scheduler import Scheduler
from terrace.storage import Storage

log = logging.getLogger("terrace.worker")


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    lease_seconds: float = 60.0
    poll_seconds: float = 5.0  # longest idle wait when no notification arrives
    grace_seconds: float = 30.0  # how long SIGTERM waits for running handlers
    janitor_seconds: float = 5.0
    gather_seconds: float = 0.005  # how long a turn waits for more outcomes after the first

    @property
    def keepalive_seconds(self) -> float:
        """Probe silent database connections so that a cut-off worker's sessions (the janitor's
        leadership among them) end within about its lease."""
        return self.lease_seconds / 4


@dataclass(frozen=True)
class ClaimedTask:
    task_id: str
    job_id: str
    stage: int
    attempt: int
    parameters: Json
    checkpoints: dict[str, Json]


@dataclass(frozen=True)
class Job:
    job_id: str
    job_type: str
    parameters: Json
    http_request_id: str | None


@dataclass
class Outcome:
    task: ClaimedTask
    result: Json | None = None
    failure: Failure | None = None


@dataclass
class Worker:
    database_url: str
    registry: JobRegistry
    storage: Storage
    config: WorkerConfig = field(default_factory=WorkerConfig)
    scheduler: Scheduler = field(default_factory=Scheduler)

    def __post_init__(self) -> None:
        self.machine = CoreMachine(self.registry, self.storage)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.q = queries("orchestration")
        self.stopping = threading.Event()
        self.closed = threading.Event()
        self._wake = threading.Event()
        self._outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._claimed: queue.SimpleQueue[ClaimedTask] = queue.SimpleQueue()
        self._running: dict[str, ClaimedTask] = {}
        self._jobs: dict[str, Job] = {}

    def stop(self) -> None:
        """Stop claiming; running handlers get `grace_seconds` to finish."""
        self.stopping.set()
        self._wake.set()

    def run(self) -> None:
        self.pool: Pool = open_pool(
            self.database_url,
            max_size=self.config.concurrency + 3,
            name="terrace-worker",
            keepalive_seconds=self.config.keepalive_seconds,
        )
        try:
            self._register()
            janitor = Janitor(
                self.database_url,
                self.machine,
                self.scheduler,
                self.config.janitor_seconds,
                keepalive_seconds=self.config.keepalive_seconds,
            )
            handlers = [self._handle] * self.config.concurrency
            for target in (*handlers, self._heartbeat, self._listen, lambda: janitor.run(self.closed)):
                threading.Thread(target=target, daemon=True).start()
            # What exists now (modules, pools) lives as long as the worker: keep it out of the
            # collector's scans, which handlers allocating millions of objects trigger often.
            gc.freeze()
            self._loop()
            self._drain()
        finally:
            self.closed.set()
            self.pool.close()

    def _loop(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            self._wake.clear()
            try:
                wait = self._turn(claim=True)
                failures = 0
            except psycopg.OperationalError as exc:
                failures += 1
                wait = min(30.0, 0.5 * 2**failures)
                log.warning("database unavailable (%s); retrying in %.1f s", exc, wait)
            except Exception:  # a bug must not stop the worker; the tasks involved are retried
                log.exception("worker loop error")
                wait = 1.0
            if self._wake.wait(wait):
                self._gather()

    def _gather(self) -> None:
        """Give the other running tasks a moment to finish too, so that one turn reports a batch
        (short tasks otherwise cost a transaction each)."""
        deadline = time.monotonic() + self.config.gather_seconds
        while self._outcomes.qsize() < len(self._running) and time.monotonic() < deadline:
            time.sleep(self.config.gather_seconds / 10)

    def _turn(self, claim: bool) -> float:
        """Record the finished tasks (completions in one batch, then each failure) and claim
        tasks for the free slots, in one transaction; returns how long to wait before the next
        turn."""
        batch: list[Outcome] = []
        while not self._outcomes.empty():
            batch.append(self._outcomes.get())
        free = self.config.concurrency - len(self._running) + len(batch) if claim else 0
        if not batch and free <= 0:
            return self.config.poll_seconds
        requeued = False
        try:
            with self.pool.connection() as conn, conn.transaction():
                self._complete(conn, [o for o in batch if o.failure is None])
                for outcome in batch:
                    if outcome.failure is not None:
                        self._fail(conn, outcome.task, outcome.failure)
                claimed, wait = self._claim(conn, free) if free > 0 else ([], self.config.poll_seconds)
        except psycopg.OperationalError:
            requeued = True
            for outcome in batch:  # reported again once the database is back; repeats are no-ops
                self._outcomes.put(outcome)
            raise
        finally:
            # Reported or given up: stop renewing their leases and free their slots. (Outcomes
            # of other tasks that arrived meanwhile do not keep these.)
            if not requeued:
                for outcome in batch:
                    self._running.pop(outcome.task.task_id, None)
        for task in claimed:
            self._running[task.task_id] = task
            self._claimed.put(task)
        return wait

    def _claim(self, conn: psycopg.Connection[Any], free: int) -> tuple[list[ClaimedTask], float]:
        """Up to `free` tasks claimed, and how long to wait before looking again."""
        claimed = (
            conn.cursor(row_factory=class_row(ClaimedTask))
            .execute(
                "SELECT task_id, job_id, stage, attempt, parameters, checkpoints "
                "FROM app.claim_tasks(%s, %s, %s)",
                (self.worker_id, free, self.config.lease_seconds),
            )
            .fetchall()
        )
        self._load_jobs(conn, {t.job_id for t in claimed})
        if len(claimed) == free:
            return claimed, self.config.poll_seconds
        row = conn.execute(self.q["next_run_after"]).fetchone()
        if row is None or row["seconds"] is None:
            return claimed, self.config.poll_seconds
        return claimed, max(0.01, min(float(row["seconds"]), self.config.poll_seconds))

    def _load_jobs(self, conn: psycopg.Connection[Any], job_ids: set[str]) -> None:
        missing = list(job_ids - self._jobs.keys())
        if not missing:
            return
        if len(self._jobs) > 1000:
            self._jobs.clear()
        jobs = conn.cursor(row_factory=class_row(Job)).execute(self.q["jobs_of_tasks"], {"job_ids": missing})
        for job in jobs:
            self._jobs[job.job_id] = job

    def _handle(self) -> None:
        """One slot's thread: runs the tasks claimed for it, one after another."""
        while True:
            self._execute(self._claimed.get())

    def _execute(self, task: ClaimedTask) -> None:
        """Run one task in this thread, every log line of it naming its job, task and request."""
        job = self._jobs[task.job_id]
        with structlog.contextvars.bound_contextvars(
            request_id=job.http_request_id, job_id=task.job_id, task_id=task.task_id, job_type=job.job_type
        ):
            log.info("task started (stage %d, attempt %d)", task.stage, task.attempt)
            started = time.monotonic()
            outcome = self._outcome(task, job)
            seconds = time.monotonic() - started
            verdict = "failed" if outcome.failure else "completed"
            TASK_DURATION.labels(job.job_type, str(task.stage), verdict).observe(seconds)
            log.info("task %s in %.3f s", verdict, seconds)
        self._outcomes.put(outcome)
        self._wake.set()

    def _outcome(self, task: ClaimedTask, job: Job) -> Outcome:
        outcome = Outcome(task)
        doing = f"running stage {task.stage} of a {job.job_type} job"
        try:
            job_type = self.registry.get(job.job_type)
            stage = job_type.stages[task.stage - 1]
            doing = f"running the {stage.name} stage of a {job.job_type} job"
            context = TaskRun(
                job_id=task.job_id,
                task_id=task.task_id,
                job_type=job.job_type,
                stage=task.stage,
                attempt=task.attempt,
                params=job_type.load(job.parameters),
                task=stage.task.model_validate(task.parameters),
                database_url=self.database_url,
                storage=self.storage,
                worker_id=self.worker_id,
                pool=self.pool,
                checkpoints=dict(task.checkpoints),
            )
            result = stage.handler(context)
            if not isinstance(result, stage.result):
                raise TypeError(f"handler returned {type(result).__name__}, not {stage.result.__name__}")
            outcome.result = result.model_dump(mode="json")
        except Exception as exc:  # every handler failure becomes a recorded task error
            outcome.failure = classify(exc, self.storage, doing)
        return outcome

    def _complete(self, conn: psycopg.Connection[Any], done: list[Outcome]) -> None:
        """Record completions, planning the next stage of each stage they finish (inside the
        caller's transaction)."""
        if not done:
            return
        rows = conn.execute(
            "SELECT * FROM app.complete_tasks(%s, %s, %s, %s)",
            (
                self.worker_id,
                [o.task.task_id for o in done],
                [o.task.attempt for o in done],
                [Jsonb(o.result) for o in done],
            ),
        ).fetchall()
        for row in rows:
            if row["fenced"]:
                log.warning(
                    "completion of task %s discarded: its lease expired and the task was taken over",
                    row["task_id"],
                )
            elif row["stage_finished"]:
                self.machine.advance(conn, row["job_id"], row["stage"])

    def _fail(self, conn: psycopg.Connection[Any], task: ClaimedTask, failure: Failure) -> None:
        with conn.transaction():
            lease = (self.worker_id, task.attempt)
            verdict = self.machine.fail_task(conn, task.job_id, task.task_id, task.stage, lease, failure)
        if verdict == "lost":
            log.warning(
                "failure of task %s discarded: its lease expired and the task was taken over", task.task_id
            )

    def _drain(self) -> None:
        """After SIGTERM: let running handlers finish within the grace period, release the rest."""
        deadline = time.monotonic() + self.config.grace_seconds
        while self._running and time.monotonic() < deadline:
            self._wake.wait(0.2)
            self._wake.clear()
            try:
                self._turn(claim=False)
            except psycopg.OperationalError:
                time.sleep(0.5)
        with self.pool.connection() as conn:
            for task_id, task in list(self._running.items()):
                row = conn.execute(
                    self.q["release_task"],
                    {"task_id": task_id, "worker_id": self.worker_id, "attempt": task.attempt},
                )
                released = row.fetchone()
                if released:
                    self.machine.event(
                        conn,
                        released["job_id"],
                        "task_released",
                        task_id=task_id,
                        stage=released["stage"],
                        message="worker stopping",
                    )
            conn.execute(queries("workers")["stopped"], {"worker_id": self.worker_id})

    def _register(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                queries("workers")["register"],
                {
                    "worker_id": self.worker_id,
                    "hostname": socket.gethostname(),
                    "pid": os.getpid(),
                    "concurrency": self.config.concurrency,
                },
            )

    def _heartbeat(self) -> None:
        interval = max(0.2, self.config.lease_seconds / 3)
        while not self.closed.wait(interval):
            running = list(self._running.values())
            try:
                with self.pool.connection() as conn:
                    extended = conn.execute(
                        self.q["extend_leases"],
                        {
                            "worker_id": self.worker_id,
                            "ids": [t.task_id for t in running],
                            "attempts": [t.attempt for t in running],
                            "lease": self.config.lease_seconds,
                        },
                    ).fetchall()
                    conn.execute(queries("workers")["heartbeat"], {"worker_id": self.worker_id})
            except psycopg.Error as exc:
                log.warning("heartbeat failed: %s", exc)
                continue
            lost = ({t.task_id for t in running} - {r["task_id"] for r in extended}) & self._running.keys()
            for task_id in lost:
                log.warning("lease of task %s lost: its result will be discarded", task_id)

    def _listen(self) -> None:
        while not self.closed.is_set():
            try:
                with connect(
                    self.database_url, autocommit=True, keepalive_seconds=self.config.keepalive_seconds
                ) as conn:
                    conn.execute(self.q["listen"])
                    while not self.closed.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except psycopg.OperationalError:
                self.closed.wait(1.0)
