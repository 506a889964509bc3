"""Review use cases over HTTP and CLI: approve, reject, revoke, unpublish, each in one transaction."""

from __future__ import annotations

from typing import Any

from terrace.auth import Principal, Role
from terrace.catalog import review
from terrace.catalog.releases import find_release
from terrace.catalog.unpublish import delete_blobs, plan, unpublish
from terrace.db.pool import Pool
from terrace.errors import Forbidden
from terrace.orchestration.approval import conclude_review
from terrace.platform.requests import ApproveRequest, ReasonRequest, UnpublishRequest
from terrace.platform.views import describe
from terrace.storage import Storage


def actor(principal: Principal) -> str:
    """The reviewer recorded is always the authenticated principal, never a body field."""
    return principal.actor


def approve(pool: Pool, body: ApproveRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        release = review.approve(
            conn, body.ref, actor(principal), body.version_id, body.clearance_state, body.notes
        )
        conclude_review(conn, release.job_id)
        return describe(conn, release)


def reject(pool: Pool, body: ReasonRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        release = review.reject(conn, body.ref, actor(principal), body.reason)
        conclude_review(conn, release.job_id)
        return describe(conn, release)


def revoke(pool: Pool, body: ReasonRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        return describe(conn, review.revoke(conn, body.ref, actor(principal), body.reason))


def remove(pool: Pool, storage: Storage, body: UnpublishRequest, principal: Principal) -> dict[str, Any]:
    """Dry run (default): what would go. Otherwise delete it; approved releases need an admin."""
    if body.force_approved and not principal.has(Role.admin):
        raise Forbidden("force_approved needs the admin role.", "Ask an admin, or revoke the release first.")
    with pool.connection() as conn:
        if body.dry_run:
            return {"dry_run": True, **plan(conn, find_release(conn, body.ref)).to_dict()}
        with conn.transaction():
            removal = unpublish(conn, body.ref, actor(principal), body.force_approved)
            conclude_review(conn, find_release(conn, removal.release_id).job_id)
    delete_blobs(storage, removal)
    return {"dry_run": False, **removal.to_dict()}
