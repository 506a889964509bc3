"""The end of a reviewed job: it waits in `awaiting_approval` until its release's review concludes."""

from __future__ import annotations

from terrace.db.pool import Connection
from terrace.db.queries import queries


def conclude_review(conn: Connection, job_id: str | None) -> None:
    """The review of the job's release is over (approved, rejected or unpublished): the job is completed."""
    if job_id is not None:
        conn.execute(queries("orchestration")["conclude_review"], {"job_id": job_id})
