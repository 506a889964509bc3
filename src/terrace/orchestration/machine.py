"""CoreMachine: submit jobs and move them through their stages, inside the caller's transaction.

Every function here runs in a transaction its caller owns, so that a job and its first tasks,
or a stage's last completion and the next stage's tasks, commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import InvalidInput, NotFound
from terrace.observability.metrics import JOBS_FINISHED, TASK_RETRIES
from terrace.observability.tracing import current_request_id
from terrace.orchestration.definitions import JobType, Json, Result
from terrace.orchestration.failures import Failure, classify
from terrace.orchestration.registry import JobRegistry
from terrace.storage import Storage


def job_id_for(job_type: str, parameters: dict[str, Any]) -> str:
    """SHA-256 of the job type and canonical parameters; `_`-prefixed keys do not count."""
    canonical = {k: v for k, v in parameters.items() if not k.startswith("_")}
    text = job_type + json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def validate(job_type: JobType, parameters: dict[str, Any]) -> BaseModel:
    try:
        return job_type.parameters.model_validate(parameters)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(parameters)'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(
            f"Invalid parameters for {job_type.name}: {problems}.",
            "Correct the named parameters and submit again.",
        ) from None


class CoreMachine:
    def __init__(self, registry: JobRegistry, storage: Storage) -> None:
        self.registry = registry
        self.storage = storage  # for the cleanup of failed jobs
        self.q = queries("orchestration")

    def submit(
        self,
        conn: Connection,
        job_type_name: str,
        parameters: dict[str, Any],
        submitted_by: str | None = None,
    ) -> tuple[str, bool]:
        """(job_id, created): the same job submitted again returns the existing one."""
        job_type = self.registry.get(job_type_name)
        model = validate(job_type, parameters)
        stored = {
            **model.model_dump(mode="json"),
            **{k: v for k, v in parameters.items() if k.startswith("_")},
        }
        job_id = job_id_for(job_type.name, stored)
        inserted = conn.execute(
            self.q["insert_job"],
            {
                "job_id": job_id,
                "job_type": job_type.name,
                "parameters": Jsonb(stored),
                "stage_count": len(job_type.stages),
                "max_attempts": job_type.max_attempts,
                "backoff_base_seconds": job_type.backoff_base_seconds,
                "backoff_max_seconds": job_type.backoff_max_seconds,
                "timeout_seconds": job_type.timeout_seconds,
                "submitted_by": submitted_by,
                "http_request_id": current_request_id(),
            },
        ).fetchone()
        if inserted is None:
            return job_id, False
        self.event(conn, job_id, "job_created", data={"actor": submitted_by} if submitted_by else None)
        self.plan(conn, self.lock(conn, job_id), 1, [])
        return job_id, True

    def lock(self, conn: Connection, job_id: str) -> dict[str, Any]:
        row = conn.execute(self.q["lock_job"], {"job_id": job_id}).fetchone()
        if row is None:
            raise NotFound(f"No job {job_id!r}.", "List jobs with GET /api/jobs.")
        return dict(row)

    def advance(self, conn: Connection, job_id: str, stage: int) -> None:
        """Called by the one completion that finished `stage`: plan the next stage or finish."""
        job = self.lock(conn, job_id)
        conn.execute(self.q["stage_completed_event"], {"job_id": job_id})
        results = [
            r["result"] for r in conn.execute(self.q["stage_results"], {"job_id": job_id, "stage": stage})
        ]
        self.plan(conn, job, stage + 1, results)

    def plan(self, conn: Connection, job: dict[str, Any], stage: int, previous: list[Json]) -> None:
        """Plan `stage` from the stored results of the stage before it (skipping stages whose
        planner yields no task), or finalize the job."""
        job_type = self.registry.get(job["job_type"])
        try:
            params = job_type.load(job["parameters"])
            results = job_type.stages[stage - 2].results(previous) if previous else []
            while stage <= len(job_type.stages):
                planned = job_type.stages[stage - 1].plan(params, results)
                if planned:
                    self._queue(conn, job, stage, [task.model_dump(mode="json") for task in planned])
                    return
                self.event(conn, job["job_id"], "stage_skipped", stage=stage, message="no tasks planned")
                stage, results = stage + 1, []
            result = job_type.outcome(params, results)
        except Exception as exc:  # a planner's failure fails the job, with its error recorded
            failure = classify(exc, self.storage, f"planning a {job['job_type']} job")
            self.record_incident(conn, job["job_id"], failure, stage=stage)
            self.finish(conn, job["job_id"], "failed", error=failure.error)
            return
        self.finish(conn, job["job_id"], "completed", result=result)

    def _queue(self, conn: Connection, job: dict[str, Any], stage: int, planned: list[Json]) -> None:
        job_id = job["job_id"]
        columns = "COPY app.tasks (task_id, job_id, stage, task_index, parameters, max_attempts) FROM STDIN"
        with conn.cursor().copy(columns) as copy:
            for index, task_params in enumerate(planned):
                copy.write_row(
                    (
                        f"{job_id}:{stage}:{index}",
                        job_id,
                        stage,
                        index,
                        json.dumps(task_params),
                        job["max_attempts"],
                    )
                )
        conn.execute(self.q["start_stage"], {"job_id": job_id, "stage": stage, "count": len(planned)})
        self.event(conn, job_id, "stage_started", stage=stage, data={"tasks": len(planned)})
        conn.execute(self.q["queued_events"], {"job_id": job_id, "stage": stage})
        conn.execute(self.q["notify_tasks"])

    def finish(
        self,
        conn: Connection,
        job_id: str,
        status: str,
        result: Result | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        job_type = self._type_of(conn, job_id)
        job = fetch_one(
            conn,
            self.q["finish_job"],
            {
                "job_id": job_id,
                "status": status,
                "result": Jsonb(result) if result is not None else None,
                "error": Jsonb(error) if error is not None else None,
                "has_hook": self.registry.hook(job_type) is not None,
            },
        )
        self.event(conn, job_id, f"job_{status}", message=(error or {}).get("message"))
        JOBS_FINISHED.labels(job_type, status).inc()
        if status != "completed":
            self.clean_up(conn, dict(job))
        self.run_hook(conn, dict(job))

    def clean_up(self, conn: Connection, job: dict[str, Any]) -> None:
        """A failed job's own cleanup (its JobType.on_failure), in a savepoint."""
        job_type = self.registry.get(job["job_type"])
        if job_type.on_failure is None:
            return
        try:
            with conn.transaction():
                job_type.on_failure(conn, self.storage, job_type.load(job["parameters"]), job["job_id"])
        except Exception as exc:  # recorded; the outputs it left are found by the consistency check
            self.event(conn, job["job_id"], "cleanup_failed", message=f"{type(exc).__name__}: {exc}")

    def run_hook(self, conn: Connection, job: dict[str, Any]) -> None:
        """The platform's completion hook, in a savepoint: a failure is recorded and retried later."""
        hook = self.registry.hook(job["job_type"])
        if hook is None:
            return
        try:
            with conn.transaction():
                if hook(conn, job):
                    # Its processing is done; the job now waits for the review of what it made.
                    conn.execute(self.q["await_review"], {"job_id": job["job_id"]})
                conn.execute(self.q["hook_done"], {"job_id": job["job_id"]})
        except Exception as exc:  # recorded as an event; the janitor retries the hook
            conn.execute(self.q["hook_failed"], {"job_id": job["job_id"]})
            self.event(conn, job["job_id"], "callback_failed", message=f"{type(exc).__name__}: {exc}")
            return
        self.event(conn, job["job_id"], "callback_ok")

    def fail_task(
        self,
        conn: Connection,
        job_id: str,
        task_id: str,
        stage: int,
        lease: tuple[str, int],
        failure: Failure,
    ) -> str:
        """Record a task's failure under `lease` (worker id, attempt): the task is retried while its
        attempts and its error allow, else it fails its job. A task the lease no longer holds is
        left as it is. Returns the verdict: 'retry', 'failed' or 'lost'."""
        held = {"task_id": task_id, "worker_id": lease[0], "attempt": lease[1]}
        if not fetch_one(conn, self.q["holds"], held)["held"]:
            self.event(
                conn,
                job_id,
                "task_fenced",
                task_id=task_id,
                stage=stage,
                message="The failure of a worker that no longer held this task was discarded.",
                data={"worker": lease[0], "attempt": lease[1], "error": failure.error.get("code")},
            )
            return "lost"
        self.record_incident(conn, job_id, failure, task_id=task_id, stage=stage)
        params = {
            **held,
            "error": Jsonb(failure.error),
            "max_attempts": failure.max_attempts,
        }
        verdict = fetch_one(conn, self.q["fail_task"], params)["verdict"]
        if verdict == "retry":
            TASK_RETRIES.labels(self._type_of(conn, job_id)).inc()
        elif verdict == "failed":
            JOBS_FINISHED.labels(self._type_of(conn, job_id), "failed").inc()
            self.after_failure(conn, job_id)
        return str(verdict)

    def record_incident(
        self, conn: Connection, job_id: str, failure: Failure, *, task_id: str | None = None, stage: int
    ) -> None:
        """An internal error's reference and traceback, as an event only admins read in full."""
        if failure.incident is not None:
            self.event(
                conn,
                job_id,
                "internal_error",
                task_id=task_id,
                stage=stage,
                message=failure.error["message"],
                data=failure.incident,
            )

    def after_failure(self, conn: Connection, job_id: str) -> None:
        """Run the hook of a job that `app.fail_task` has just failed."""
        job = self.lock(conn, job_id)
        self.clean_up(conn, job)
        if self.registry.hook(job["job_type"]) is not None:
            conn.execute(self.q["hook_pending"], {"job_id": job_id})
            self.run_hook(conn, job)

    def resubmit(self, conn: Connection, job_id: str) -> None:
        """Reset the job and run it again from stage 1."""
        self.lock(conn, job_id)
        conn.execute(self.q["delete_tasks"], {"job_id": job_id})
        conn.execute(self.q["reset_job"], {"job_id": job_id, "http_request_id": current_request_id()})
        self.event(conn, job_id, "job_resubmitted")
        self.plan(conn, self.lock(conn, job_id), 1, [])

    def cancel(self, conn: Connection, job_id: str) -> bool:
        """Cancel a queued or running job; running tasks finish but nothing advances."""
        self.lock(conn, job_id)
        if conn.execute(self.q["cancel_job"], {"job_id": job_id}).fetchone() is None:
            return False
        conn.execute(self.q["cancel_tasks"], {"job_id": job_id})
        self.event(conn, job_id, "job_cancelled")
        JOBS_FINISHED.labels(self._type_of(conn, job_id), "cancelled").inc()
        return True

    def fail_job(self, conn: Connection, job_id: str, error: dict[str, Any]) -> None:
        conn.execute(self.q["cancel_tasks"], {"job_id": job_id})
        self.finish(conn, job_id, "failed", error=error)

    def event(
        self,
        conn: Connection,
        job_id: str,
        kind: str,
        *,
        task_id: str | None = None,
        stage: int | None = None,
        message: str | None = None,
        duration_ms: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            self.q["event"],
            {
                "job_id": job_id,
                "task_id": task_id,
                "stage": stage,
                "kind": kind,
                "message": message,
                "duration_ms": duration_ms,
                "data": Jsonb(data or {}),
            },
        )

    def _type_of(self, conn: Connection, job_id: str) -> str:
        return str(fetch_one(conn, self.q["job"], {"job_id": job_id})["job_type"])
