"""The job types this installation runs, and the platform hooks attached to them."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from pydantic import AfterValidator, create_model

from terrace.analytics import jobs as analytics_jobs
from terrace.analytics.zonal.job import ZONAL_STATISTICS
from terrace.consistency import jobs as catalog_jobs
from terrace.db.pool import connect
from terrace.errors import InvalidInput
from terrace.ingest.raster.job import PROCESS_RASTER, PROCESS_RASTER_COLLECTION
from terrace.ingest.release import DEFAULT_INPUT_CONTAINERS, require_input_container
from terrace.ingest.vector.job import PROCESS_VECTOR
from terrace.orchestration.definitions import JobType
from terrace.orchestration.registry import JobRegistry
from terrace.orchestration.schedules import DefaultSchedule, ensure_defaults
from terrace.platform.processing import record_outcome
from terrace.public.jobs import register_public_jobs
from terrace.public.target import PublicTarget

# The schedules an installation starts with; `ensure` adds each whose job type is registered.
DEFAULT_SCHEDULES = (
    DefaultSchedule(name="nightly-check-catalog", job_type="check_catalog", cron="0 2 * * *"),
)


def default_registry(
    input_containers: tuple[str, ...] = DEFAULT_INPUT_CONTAINERS, public: PublicTarget | None = None
) -> JobRegistry:
    """The processing pipelines, reading sources only from `input_containers`; the H3 grid bootstrap
    and zonal statistics; the catalog check and repair; with a `public` target, the jobs exporting
    releases cleared public to it."""
    registry = JobRegistry()
    for pipeline in (PROCESS_VECTOR, PROCESS_RASTER, PROCESS_RASTER_COLLECTION):
        registry.register(reading_from(pipeline, input_containers), hook=record_outcome)
    registry.register(ZONAL_STATISTICS, hook=record_outcome)
    catalog_jobs.register(registry)
    analytics_jobs.register(registry)
    if public is not None:
        register_public_jobs(registry, public)
    return registry


def reading_from(job_type: JobType, allowed: tuple[str, ...]) -> JobType:
    """The job type, its parameters accepting sources only from the `allowed` containers."""

    def check(container: str) -> str:
        try:
            return require_input_container(container, allowed)
        except InvalidInput as exc:
            raise ValueError(f"{exc.message} {exc.remediation}") from None

    container: Any = Annotated[str, AfterValidator(check)]
    parameters = create_model(
        job_type.parameters.__name__,
        __base__=job_type.parameters,
        __module__=job_type.parameters.__module__,
        container=(container, allowed[0]),
    )
    return replace(job_type, parameters=parameters)


def ensure_default_schedules(url: str, registry: JobRegistry) -> list[str]:
    """The part of `ensure` that adds the missing DEFAULT_SCHEDULES of the registered job types."""
    with connect(url) as conn:
        return ensure_defaults(conn, DEFAULT_SCHEDULES, registry)
