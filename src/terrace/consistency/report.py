"""The check's report: counts by kind, stored with the run; the latest one is what operators read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from terrace.consistency.checks import RESUBMIT
from terrace.consistency.findings import Finding
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound

DEFAULT_LIMIT = 1000


class Report(BaseModel):
    job_id: str
    checked_at: datetime
    requested_by: str | None
    counts: dict[str, int]
    total: int
    findings: list[Finding]


def summarize(conn: Connection, job_id: str, source: str, requested_by: str | None) -> dict[str, int]:
    """Add one `release_outputs_missing` per release with missing tables or blobs, then store the
    counts by kind as this run's report."""
    q = queries("consistency")
    conn.execute(q["clear_findings"], {"job_id": job_id, "source": source})
    conn.execute(q["outputs_missing"], {"job_id": job_id, "source": source, "repair": RESUBMIT})
    counts = {row["kind"]: row["n"] for row in conn.execute(q["count_findings"], {"job_id": job_id})}
    conn.execute(q["save_report"], {"job_id": job_id, "counts": Jsonb(counts), "requested_by": requested_by})
    return counts


def latest_report(conn: Connection, kinds: list[str] | None = None, limit: int = DEFAULT_LIMIT) -> Report:
    """The newest report with its findings (of `kinds`, if given; at most `limit`)."""
    q = queries("consistency")
    row = conn.execute(q["latest_report"]).fetchone()
    if row is None:
        raise NotFound(
            "No catalog check has run yet.",
            "Run one with POST /api/admin/catalog/check (or `terrace catalog check`).",
        )
    findings = conn.execute(q["findings_of"], {"job_id": row["job_id"], "kinds": kinds, "limit": limit})
    counts: dict[str, Any] = row["counts"]
    return Report(
        job_id=row["job_id"],
        checked_at=row["checked_at"],
        requested_by=row["requested_by"],
        counts=counts,
        total=sum(counts.values()),
        findings=[Finding.model_validate(dict(f)) for f in findings],
    )
