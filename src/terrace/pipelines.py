"""The job types this installation runs, and the platform hooks attached to them."""

from __future__ import annotations

from terrace.ingest.raster.job import PROCESS_RASTER, PROCESS_RASTER_COLLECTION
from terrace.ingest.vector.job import PROCESS_VECTOR
from terrace.orchestration.demo import FAIL_TEST, HELLO_WORLD, PHASES_TEST
from terrace.orchestration.registry import JobRegistry
from terrace.platform.processing import record_outcome


def default_registry() -> JobRegistry:
    registry = JobRegistry()
    for job_type in (HELLO_WORLD, FAIL_TEST, PHASES_TEST):
        registry.register(job_type)
    for pipeline in (PROCESS_VECTOR, PROCESS_RASTER, PROCESS_RASTER_COLLECTION):
        registry.register(pipeline, hook=record_outcome)
    return registry
