"""Read models of jobs as users see them: status with per-stage task counts and progress, lists,
events, tasks. Errors show only their public fields, and server paths become storage-relative;
operator events (internal errors with their tracebacks, cleanup and hook failures) are for admins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.orchestration.registry import JobRegistry
from terrace.storage import Storage
from terrace.storage.redact import redact

# What a task or job error tells its reader; anything else recorded with it stays internal.
ERROR_FIELDS = (
    "code",
    "category",
    "message",
    "remediation",
    "user_fixable",
    "reference",
    "task_id",
    "stage",
    "attempts",
)
# Events whose message and data describe the platform's internals rather than the user's data.
OPERATOR_EVENTS = frozenset({"internal_error", "cleanup_failed", "callback_failed"})


def no_job(job_id: str) -> NotFound:
    """The answer for a job that does not exist, or that the caller may not see."""
    return NotFound(f"No job {job_id!r}.", "List jobs with GET /api/jobs.")


def public_error(error: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A recorded error as users see it: {code, category, message, remediation, user_fixable}, an
    internal error's reference, and where it happened."""
    return None if error is None else {k: error[k] for k in ERROR_FIELDS if k in error}


def job_status(conn: Connection, registry: JobRegistry, storage: Storage, job_id: str) -> dict[str, Any]:
    q = queries("orchestration")
    job = conn.execute(q["job"], {"job_id": job_id}).fetchone()
    if job is None:
        raise no_job(job_id)
    names = (
        [s.name for s in registry.get(job["job_type"]).stages] if job["job_type"] in registry.names() else []
    )
    stages = [dict(row) for row in conn.execute(q["stage_counts"], {"job_id": job_id})]
    for row in stages:
        row["name"] = names[row["stage"] - 1] if row["stage"] <= len(names) else None
    last = conn.execute(q["last_success"], {"job_id": job_id}).fetchone()
    return {
        "job_id": job_id,
        "job_type": job["job_type"],
        "status": job["status"],
        "parameters": redact(job["parameters"], storage),
        "stage": job["stage"],
        "stage_count": job["stage_count"],
        "percent": _percent(job, stages),
        "stages": stages,
        "result": redact(job["result"], storage),
        "error": public_error(job["error"]),
        "last_successful_step": dict(last) if last else None,
        "hook_state": job["hook_state"],
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
    }


def _percent(job: dict[str, Any], stages: list[dict[str, Any]]) -> float:
    if job["status"] in ("completed", "awaiting_approval"):
        return 100.0
    if not job["stage"]:
        return 0.0
    current = next((s for s in stages if s["stage"] == job["stage"]), None)
    fraction = (current["progress"] or 0.0) / 100 if current else 0.0
    return round(100 * (job["stage"] - 1 + fraction) / job["stage_count"], 1)


def list_jobs(
    conn: Connection,
    viewer: Mapping[str, Any],
    status: str | None = None,
    job_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Jobs, newest first, but those of releases the viewer may not see (its `Viewer.params`)."""
    params = {"status": status, "job_type": job_type, "limit": limit, "offset": offset, **viewer}
    return [dict(r) for r in conn.execute(queries("orchestration")["list_jobs"], params)]


def job_events(
    conn: Connection, job_id: str, after: int = 0, limit: int = 1000, *, operator: bool = False
) -> list[dict[str, Any]]:
    """The job's timeline; `operator` (admins) also reads what went wrong inside the platform."""
    params = {"job_id": job_id, "after": after, "limit": limit}
    events = [dict(r) for r in conn.execute(queries("orchestration")["job_events"], params)]
    if not operator:
        for event in events:
            if event["kind"] in OPERATOR_EVENTS:
                event["message"], event["data"] = None, {}
    return events


def job_tasks(
    conn: Connection,
    storage: Storage,
    job_id: str,
    stage: int | None = None,
    status: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    params = {"job_id": job_id, "stage": stage, "status": status, "limit": limit, "offset": offset}
    tasks = [dict(r) for r in conn.execute(queries("orchestration")["job_tasks"], params)]
    return [redact({**task, "error": public_error(task["error"])}, storage) for task in tasks]
