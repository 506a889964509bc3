"""Which releases a caller may see: status, catalog, approvals, jobs, previews and the web UI.

Readers and anonymous callers see what the serving APIs serve: approved, served releases whose
access level the serving rule (`Audience`) lets them see. Reviewers also see the other releases
(drafts, rejected, revoked) at the levels they may see, restricted ones only with a granted
role; admins see every release; a submitter sees what it submitted. A hidden release answers
exactly as a missing one. The rule itself is the SQL function `app.release_visible_to`, given
`Viewer.params`, so lists filter before they page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terrace.auth import Principal, Role
from terrace.catalog.releases import Release, find_release, no_release
from terrace.db.pool import Connection, Pool, fetch_one
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.orchestration.status import no_job
from terrace.platform.review import actor
from terrace.serving.visibility import Audience


@dataclass(frozen=True)
class Viewer:
    """A caller looking at releases: its serving audience, whether it reviews drafts, and the
    submitter identity its own submissions are recorded under."""

    audience: Audience
    drafts: bool = False
    actor: str | None = None

    @classmethod
    def of(cls, principal: Principal | None) -> Viewer:
        if principal is None:
            return cls(Audience.of(None))
        submitter = actor(principal) if principal.has(Role.submitter) else None
        return cls(Audience.of(principal), principal.has(Role.reviewer), submitter)

    @property
    def params(self) -> dict[str, Any]:
        """The caller as the parameters of every query that applies the rule."""
        return {
            "levels": list(self.audience.levels),
            "roles": list(self.audience.roles),
            "drafts": self.drafts,
            "actor": self.actor,
        }


def may_see(conn: Connection, viewer: Viewer, release_id: str) -> bool:
    """Whether this viewer may see the release."""
    found = fetch_one(
        conn, queries("visibility")["release_visible"], {"release_id": release_id, **viewer.params}
    )
    return bool(found["visible"])


def visible_release(conn: Connection, viewer: Viewer, ref: str) -> Release:
    """The release named by a release_id, request_id or job_id, if this viewer may see it."""
    release = find_release(conn, ref)
    if not may_see(conn, viewer, release.release_id):
        raise no_release(ref)
    return release


def require_release(pool: Pool, principal: Principal, ref: str) -> None:
    """NotFound unless the principal may see the release it is about to act on (approve ...)."""
    with pool.connection() as conn:
        visible_release(conn, Viewer.of(principal), ref)


def require_job(conn: Connection, viewer: Viewer, job_id: str) -> None:
    """NotFound unless the job exists and this viewer may see the release it processes."""
    row = conn.execute(queries("visibility")["job_visible"], {"job_id": job_id, **viewer.params}).fetchone()
    if row is None or not row["visible"]:
        raise no_job(job_id)


def draft_cog(pool: Pool, principal: Principal, release_id: str, index: int) -> tuple[str, str]:
    """(container, path) of the `index`-th COG of a draft release the principal may see."""
    params = {"release_id": release_id, "index": index, **Viewer.of(principal).params}
    with pool.connection() as conn:
        row = conn.execute(queries("visibility")["draft_cog"], params).fetchone()
    if row is None:
        raise NotFound(
            f"No draft COG {index} of release {release_id!r}.",
            "Take the preview URLs from the release's status; only drafts awaiting review have them.",
        )
    return row["container"], row["path"]
