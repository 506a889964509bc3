"""Status of a submission: request, job progress, release, outputs, approval, warnings, error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.orchestration.status import public_error
from terrace.platform.views import describe
from terrace.platform.visibility import Viewer, visible_release

# CoreMachine's view of a job: status, stage, stage_count, percent, error ...
JobStatus = Callable[[Connection, str], dict[str, Any]]


def submission_status(conn: Connection, viewer: Viewer, ref: str, job_status: JobStatus) -> dict[str, Any]:
    """The submission named by a request_id, job_id or release_id, if the viewer may see its release."""
    release = visible_release(conn, viewer, ref)
    request = conn.execute(
        queries("releases")["request_by_ref"], {"ref": ref, "release_id": release.release_id}
    ).fetchone()
    job = job_status(conn, request["job_id"]) if request else None
    # Read again after the job: a job seen finished has its outcome on the release (one transaction).
    release = visible_release(conn, viewer, ref)
    view = describe(conn, release)
    return {
        "request": dict(request) if request else None,
        "job": job,
        "release": {k: v for k, v in view.items() if k not in ("outputs", "services", "warnings")},
        "outputs": view["outputs"],
        "services": view["services"],
        "approval": {
            "state": release.approval_state,
            "version_id": release.version_id,
            "reviewer": release.reviewer,
            "reviewed_at": release.reviewed_at,
            "clearance_state": release.clearance_state,
        },
        "warnings": release.warnings,
        "error": public_error(release.last_error),
    }
