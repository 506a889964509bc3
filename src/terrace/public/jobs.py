"""The `export_release` and `withdraw_release` jobs, the hook recording their outcome on the
release, and `follow`, which submits the one a release's new state calls for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from terrace.catalog.releases import Release, lock_release
from terrace.db.pool import Connection, connect
from terrace.db.queries import queries
from terrace.orchestration.context import database_errors
from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage, TaskContext
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.registry import CompletionHook, JobRegistry
from terrace.orchestration.status import public_error
from terrace.public.export import EXPORT_OUTPUT, Holding, export, exportable, withdraw
from terrace.public.target import PublicTarget

EXPORT_RELEASE = "export_release"
WITHDRAW_RELEASE = "withdraw_release"


class PublicParams(BaseModel):
    """One request to bring a release's public copy in line with its state; `requested_at` makes
    each request its own job (export, withdraw, export again)."""

    model_config = ConfigDict(extra="forbid")
    release_id: str
    requested_at: str


class PublicResult(Contract):
    state: Literal["exported", "withdrawn", "skipped"]
    tables: list[str] = []
    stac_items: list[str] = []
    blobs: list[str] = []

    @classmethod
    def of(cls, state: Literal["exported", "withdrawn", "skipped"], held: Holding) -> PublicResult:
        return cls(state=state, tables=held.tables, stac_items=held.stac_items, blobs=held.blobs)


def register_public_jobs(registry: JobRegistry, target: PublicTarget) -> None:
    """Let this installation export to `target`: the jobs, and the hook recording their outcome."""

    def run_export(ctx: TaskContext[PublicParams, NoInput]) -> PublicResult:
        with database_errors(ctx.job_type), connect(target.database_url) as conn, ctx.connect() as source:
            held = export(source, conn, ctx.storage, target, ctx.params.release_id)
        return PublicResult.of("skipped", Holding()) if held is None else PublicResult.of("exported", held)

    def run_withdraw(ctx: TaskContext[PublicParams, NoInput]) -> PublicResult:
        with database_errors(ctx.job_type), connect(target.database_url) as conn, ctx.connect() as source:
            held = withdraw(source, conn, target, ctx.params.release_id)
        return PublicResult.of("skipped", Holding()) if held is None else PublicResult.of("withdrawn", held)

    for name, stage, handler in (
        (EXPORT_RELEASE, "export", run_export),
        (WITHDRAW_RELEASE, "withdraw", run_withdraw),
    ):
        job_type = JobType(
            name=name,
            parameters=PublicParams,
            stages=(Stage(stage, handler, _one_task, NoInput, PublicResult),),
            finalize=_single,
            max_attempts=5,
            backoff_base_seconds=2.0,
            backoff_max_seconds=60.0,
            timeout_seconds=3600,
        )
        registry.register(job_type, hook=_recorder(target))


def follow(conn: Connection, machine: CoreMachine, release: Release) -> str | None:
    """Submit the export or withdrawal the release's state calls for, in the caller's transaction
    (the one that changed that state); the job id, or None when there is nothing to do or no
    public zone is configured."""
    if EXPORT_RELEASE not in machine.registry.names():
        return None
    record: dict[str, Any] = (release.outputs or {}).get(EXPORT_OUTPUT) or {}
    if exportable(release):
        job_type = EXPORT_RELEASE
    elif record and record.get("state") != "withdrawn":
        job_type = WITHDRAW_RELEASE
    else:
        return None
    now = datetime.now(UTC).isoformat()
    job_id, _ = machine.submit(conn, job_type, {"release_id": release.release_id, "requested_at": now})
    state = "exporting" if job_type == EXPORT_RELEASE else "withdrawing"
    _record(conn, release.release_id, {**record, "state": state, "job_id": job_id, "requested_at": now})
    return job_id


def _recorder(target: PublicTarget) -> CompletionHook:
    def record_outcome(conn: Connection, job: dict[str, Any]) -> bool:
        """The job's outcome on its release, unless a later request superseded it. The asset's
        lock orders this with the review transactions that make requests (`follow`)."""
        release_id = job["parameters"]["release_id"]
        release = lock_release(conn, release_id)
        record = (release.outputs or {}).get(EXPORT_OUTPUT) or {}
        if record.get("job_id") != job["job_id"]:
            return False
        at = datetime.now(UTC).isoformat()
        if job["status"] != "completed":
            outcome = {"state": "failed", "at": at, "error": public_error(job["error"])}
        else:
            result = PublicResult.model_validate(job["result"])
            held = result if result.state == "exported" else PublicResult(state=result.state)
            outcome = {**held.model_dump(), "at": at, "error": None}
        _record(conn, release_id, {**record, **outcome, "target": target.name})
        return False

    return record_outcome


def _record(conn: Connection, release_id: str, record: dict[str, Any]) -> None:
    conn.execute(
        queries("releases")["set_output"],
        {"release_id": release_id, "key": EXPORT_OUTPUT, "value": Jsonb(record)},
    )


def _one_task(params: PublicParams, _: list[Any]) -> list[NoInput]:
    return [NoInput()]


def _single(params: PublicParams, results: list[PublicResult]) -> PublicResult:
    (result,) = results
    return result
