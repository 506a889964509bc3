"""Read models of jobs: status with per-stage task counts and progress, lists, events, tasks."""

from __future__ import annotations

from typing import Any

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.orchestration.registry import JobRegistry


def job_status(conn: Connection, registry: JobRegistry, job_id: str) -> dict[str, Any]:
    q = queries("orchestration")
    job = conn.execute(q["job"], {"job_id": job_id}).fetchone()
    if job is None:
        raise NotFound(f"No job {job_id!r}.", "List jobs with GET /api/jobs.")
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
        "parameters": job["parameters"],
        "stage": job["stage"],
        "stage_count": job["stage_count"],
        "percent": _percent(job, stages),
        "stages": stages,
        "result": job["result"],
        "error": job["error"],
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
    conn: Connection, status: str | None = None, job_type: str | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    params = {"status": status, "job_type": job_type, "limit": limit, "offset": offset}
    return [dict(r) for r in conn.execute(queries("orchestration")["list_jobs"], params)]


def job_events(conn: Connection, job_id: str, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    params = {"job_id": job_id, "after": after, "limit": limit}
    return [dict(r) for r in conn.execute(queries("orchestration")["job_events"], params)]


def job_tasks(
    conn: Connection,
    job_id: str,
    stage: int | None = None,
    status: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    params = {"job_id": job_id, "stage": stage, "status": status, "limit": limit, "offset": offset}
    return [dict(r) for r in conn.execute(queries("orchestration")["job_tasks"], params)]
