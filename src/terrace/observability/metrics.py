"""The Prometheus metrics every Terrace process counts (their exposition is in `exposition`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "terrace_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "terrace_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"]
)
TASK_DURATION = Histogram(
    "terrace_task_duration_seconds",
    "Time a task handler ran.",
    ["job_type", "stage", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
JOBS_FINISHED = Counter("terrace_jobs_finished_total", "Jobs finished, by outcome.", ["job_type", "status"])
TASK_RETRIES = Counter("terrace_task_retries_total", "Failed tasks queued again.", ["job_type"])
FEATURES_INGESTED = Counter(
    "terrace_ingested_features_total", "Vector features loaded into release tables.", ["job_type"]
)
BYTES_INGESTED = Counter("terrace_ingested_bytes_total", "Bytes uploaded into a container.", ["container"])
RELEASE_TRANSITIONS = Counter(
    "terrace_release_transitions_total", "Release review actions (approve, reject, revoke, ...).", ["action"]
)
TILE_CACHE_REQUESTS = Counter(
    "terrace_tile_cache_requests_total", "Vector tiles of approved versions asked of the cache.", ["outcome"]
)
RATE_LIMITED = Counter("terrace_rate_limited_total", "Requests refused by a rate limit.", ["group"])
