"""Metrics exposition for `/metrics`: every process's counts, and the queue read from the database.

With PROMETHEUS_MULTIPROC_DIR set (as `terrace up` does, to a folder under its home that it
empties at start), each API and worker process writes its samples to files there and `/metrics`
of any API process on that machine adds them all up. Without it, an API process reports its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from terrace.db.pool import Pool
from terrace.db.queries import queries


class QueueCollector(Collector):
    """Queued tasks and the age of the oldest, by job type, read from the database when scraped."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("terrace_queue_depth", "Tasks waiting to be claimed.", labels=["job_type"])
        age = GaugeMetricFamily(
            "terrace_queue_oldest_age_seconds", "Age of the oldest waiting task.", labels=["job_type"]
        )
        with self.pool.connection() as conn:
            for row in conn.execute(queries("metrics")["queue"]):
                depth.add_metric([row["job_type"]], row["depth"])
                age.add_metric([row["job_type"]], row["oldest_seconds"])
        yield depth
        yield age


def exposition(pool: Pool) -> bytes:
    """The text format of every process's metrics (one process's without a multiprocess folder)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Registered())
    registry.register(QueueCollector(pool))
    return generate_latest(registry)


class _Registered(Collector):
    """This process's own metrics (the default registry), when there is no multiprocess folder."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


# The figures the web UI's health page shows: (label, metric family, sample filter).
HEADLINES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("HTTP requests", "terrace_http_requests", {}),
    ("Rate-limited requests", "terrace_rate_limited", {}),
    ("Tasks waiting", "terrace_queue_depth", {}),
    ("Oldest waiting task (s)", "terrace_queue_oldest_age_seconds", {}),
    ("Jobs completed", "terrace_jobs_finished", {"status": "completed"}),
    ("Jobs failed", "terrace_jobs_finished", {"status": "failed"}),
    ("Task retries", "terrace_task_retries", {}),
    ("Features ingested", "terrace_ingested_features", {}),
    ("Bytes uploaded", "terrace_ingested_bytes", {}),
    ("Releases approved", "terrace_release_transitions", {"action": "approve"}),
)


def headline_figures(pool: Pool) -> list[tuple[str, float]]:
    """The health page's figures, summed over processes and labels (the oldest age: the largest)."""
    families = {f.name: f for f in text_string_to_metric_families(exposition(pool).decode())}
    figures = []
    for label, name, wanted in HEADLINES:
        family = families.get(name)
        values = [
            s.value
            for s in (family.samples if family else [])
            if s.name in (name, f"{name}_total") and wanted.items() <= s.labels.items()
        ]
        figures.append((label, max(values, default=0.0) if name.endswith("age_seconds") else sum(values)))
    return figures
