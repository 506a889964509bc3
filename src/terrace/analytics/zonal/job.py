"""The zonal_statistics job: plan (one task) → compute (one task per band of zones) → assemble
(one task)."""

from __future__ import annotations

from terrace.analytics.zonal.assemble import assemble
from terrace.analytics.zonal.compute import compute, plan_assemble
from terrace.analytics.zonal.params import (
    Aggregated,
    AssembleTask,
    Computed,
    ComputeTask,
    Planned,
    ZonalParams,
)
from terrace.analytics.zonal.plan import plan, plan_computes
from terrace.analytics.zonal.tables import staging_name
from terrace.db.pool import Connection
from terrace.ingest.vector.tables import drop_table
from terrace.orchestration.definitions import JobType, NoInput, Stage
from terrace.storage import Storage

JOB_TYPE = "zonal_statistics"


def drop_staging(conn: Connection, storage: Storage, params: ZonalParams, job_id: str) -> None:
    """A failed job leaves nothing behind."""
    drop_table(conn, params.target_schema, staging_name(job_id))


def _single(params: ZonalParams, results: list[Aggregated]) -> Aggregated:
    (aggregated,) = results
    return aggregated


ZONAL_STATISTICS = JobType(
    name=JOB_TYPE,
    parameters=ZonalParams,
    stages=(
        Stage("plan", plan, lambda params, _: [NoInput()], NoInput, Planned),
        Stage("compute", compute, plan_computes, ComputeTask, Computed),
        Stage("assemble", assemble, plan_assemble, AssembleTask, Aggregated),
    ),
    finalize=_single,
    on_failure=drop_staging,
    max_attempts=3,
    backoff_base_seconds=5.0,
    backoff_max_seconds=120.0,
)
