"""What the admin API, the CLI (through it) and the web UI do: start a check, read the latest
report, start a repair. The actor recorded is always the authenticated principal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from terrace.auth import Principal
from terrace.consistency.findings import Kind
from terrace.consistency.jobs import DEFAULT_GRACE_SECONDS
from terrace.consistency.report import DEFAULT_LIMIT, Report, latest_report
from terrace.db.pool import Pool
from terrace.orchestration.machine import CoreMachine
from terrace.platform.review import actor


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=DEFAULT_GRACE_SECONDS, ge=0, description="Objects younger than this are never orphans."
    )


class RepairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=True, description="List the actions without taking them.")
    kinds: list[Kind] | None = Field(default=None, description="Repair only findings of these kinds.")
    force_recreate: bool = Field(default=False, description="Rebuild the STAC of every served release.")


def start_check(pool: Pool, machine: CoreMachine, principal: Principal, body: CheckRequest) -> str:
    params = {"requested_by": actor(principal), "grace_seconds": body.grace_seconds}
    with pool.connection() as conn, conn.transaction():
        return machine.submit(conn, "check_catalog", params, submitted_by=principal.actor)[0]


def start_repair(pool: Pool, machine: CoreMachine, principal: Principal, body: RepairRequest) -> str:
    params = {"actor": actor(principal), **body.model_dump()}
    with pool.connection() as conn, conn.transaction():
        return machine.submit(conn, "repair_catalog", params, submitted_by=principal.actor)[0]


def read_report(pool: Pool, kinds: list[str] | None = None, limit: int = DEFAULT_LIMIT) -> Report:
    with pool.connection() as conn:
        return latest_report(conn, kinds, limit)
