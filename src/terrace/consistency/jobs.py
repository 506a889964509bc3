"""The check_catalog and repair_catalog jobs.

check_catalog: survey (one task: cut silver into scopes) → check (parallel tasks: tables,
orphan tables, `_latest` views, pgSTAC, named blobs, releases, jobs, and one per group of silver
scopes) → report (one task). Each check task writes its findings straight to
app.catalog_findings, so results that travel between stages stay small whatever the catalog's size.
repair_catalog: one task that plans (and unless `dry_run`, applies) the repair.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Literal

from pydantic import Field

from terrace.consistency import blobs, checks
from terrace.consistency.blobs import Scope
from terrace.consistency.findings import Finding, Kind, record
from terrace.consistency.repair import Action, apply, plan
from terrace.consistency.report import summarize
from terrace.db.pool import Connection
from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage, TaskContext
from terrace.orchestration.registry import JobRegistry

DEFAULT_GRACE_SECONDS = 3600

Check = Literal[
    "missing_tables", "orphan_tables", "latest_views", "stac", "named_blobs", "releases", "jobs", "silver"
]
DATABASE_CHECKS: dict[str, Callable[[Connection, str], Iterator[Finding]]] = {
    "missing_tables": checks.missing_tables,
    "orphan_tables": checks.orphan_tables,
    "latest_views": checks.latest_views,
    "stac": checks.stac,
    "releases": checks.releases,
    "jobs": checks.jobs,
}


def _run_id() -> str:
    return uuid.uuid4().hex


class CheckParams(Contract):
    # Every submission is a new run (job ids derive from the parameters).
    run: str = Field(default_factory=_run_id)
    requested_by: str | None = None
    grace_seconds: int = Field(
        default=DEFAULT_GRACE_SECONDS, ge=0, description="Objects younger than this are never orphans."
    )


class Surveyed(Contract):
    scopes: list[list[Scope]]


class CheckTask(Contract):
    check: Check
    scopes: list[Scope] = []


class Checked(Contract):
    check: Check
    found: int


class CheckReport(Contract):
    counts: dict[str, int]
    total: int


def _survey(ctx: TaskContext[CheckParams, NoInput]) -> Surveyed:
    return Surveyed(scopes=blobs.survey(ctx.storage))


def _plan_checks(params: CheckParams, surveyed: list[Surveyed]) -> list[CheckTask]:
    (survey,) = surveyed
    fixed = [CheckTask.model_validate({"check": name}) for name in (*DATABASE_CHECKS, "named_blobs")]
    return fixed + [CheckTask(check="silver", scopes=group) for group in survey.scopes]


def _check(ctx: TaskContext[CheckParams, CheckTask]) -> Checked:
    task = ctx.task
    with ctx.connect() as conn:
        found: Iterator[Finding]
        if task.check == "silver":
            found = blobs.orphan_blobs(
                conn, ctx.storage, task.scopes, timedelta(seconds=ctx.params.grace_seconds)
            )
        elif task.check == "named_blobs":
            found = blobs.missing_blobs(conn, ctx.storage)
        else:
            found = DATABASE_CHECKS[task.check](conn, ctx.job_id)
        return Checked(check=task.check, found=record(conn, ctx.job_id, ctx.task_id, found))


def _report(ctx: TaskContext[CheckParams, NoInput]) -> CheckReport:
    with ctx.connect() as conn:
        counts = summarize(conn, ctx.job_id, ctx.task_id, ctx.params.requested_by)
    return CheckReport(counts=counts, total=sum(counts.values()))


def _single(params: object, results: list[CheckReport]) -> CheckReport:
    (report,) = results
    return report


CHECK_CATALOG = JobType(
    name="check_catalog",
    parameters=CheckParams,
    stages=(
        Stage("survey", _survey, lambda params, _: [NoInput()], NoInput, Surveyed),
        Stage("check", _check, _plan_checks, CheckTask, Checked),
        Stage("report", _report, lambda params, _: [NoInput()], NoInput, CheckReport),
    ),
    finalize=_single,
    max_attempts=3,
    timeout_seconds=6 * 3600,
    backoff_base_seconds=5.0,
    backoff_max_seconds=60.0,
)


class RepairParams(Contract):
    run: str = Field(default_factory=_run_id)
    actor: str = Field(min_length=1, description="Who asked; recorded in the audit and the timeline.")
    dry_run: bool = True
    kinds: list[Kind] | None = Field(default=None, description="Only findings of these kinds (all if unset).")
    force_recreate: bool = Field(default=False, description="Rebuild the STAC of every served release.")


class Repaired(Contract):
    dry_run: bool
    report_job_id: str
    actions: list[Action]


def _names(kinds: list[Kind] | None) -> list[str] | None:
    return None if kinds is None else [str(kind) for kind in kinds]


def repair_catalog(registry: JobRegistry) -> JobType:
    """The repair job; `registry` gives the cleanup of the job types whose cleanup it reruns."""

    def repair(ctx: TaskContext[RepairParams, NoInput]) -> Repaired:
        params = ctx.params
        with ctx.connect(autocommit=True) as conn:
            report, actions = plan(conn, _names(params.kinds), params.force_recreate)
            if not params.dry_run:
                actions = [apply(conn, ctx.storage, registry, a, ctx.job_id, params.actor) for a in actions]
        return Repaired(dry_run=params.dry_run, report_job_id=report, actions=actions)

    return JobType(
        name="repair_catalog",
        parameters=RepairParams,
        stages=(Stage("repair", repair, lambda params, _: [NoInput()], NoInput, Repaired),),
        finalize=lambda params, results: results[0],
        max_attempts=1,  # a repair is not retried blindly: run a new check, then repair again
        timeout_seconds=6 * 3600,
    )


def register(registry: JobRegistry) -> None:
    """Add the catalog jobs to `registry`."""
    registry.register(CHECK_CATALOG)
    registry.register(repair_catalog(registry))
