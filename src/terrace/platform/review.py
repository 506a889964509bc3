"""Review use cases over HTTP and CLI: approve, reject, revoke, unpublish, clearance, each in one
transaction, which also submits the public zone's export or withdrawal the outcome calls for."""

from __future__ import annotations

from typing import Any

from terrace.auth import Principal, Role
from terrace.catalog import review
from terrace.catalog.clearance import change_clearance
from terrace.catalog.releases import find_release
from terrace.catalog.unpublish import delete_blobs, plan, unpublish
from terrace.db.pool import Pool
from terrace.errors import Forbidden
from terrace.orchestration.approval import conclude_review
from terrace.orchestration.machine import CoreMachine
from terrace.platform.requests import ApproveRequest, ClearanceRequest, ReasonRequest, UnpublishRequest
from terrace.platform.views import describe
from terrace.public.jobs import follow
from terrace.storage import Storage


def actor(principal: Principal) -> str:
    """The reviewer recorded is always the authenticated principal, never a body field."""
    return principal.actor


def approve(pool: Pool, machine: CoreMachine, body: ApproveRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        release = review.approve(
            conn, body.ref, actor(principal), body.version_id, body.clearance_state, body.notes
        )
        conclude_review(conn, release.job_id)
        follow(conn, machine, release)
        return describe(conn, find_release(conn, release.release_id))


def reject(pool: Pool, body: ReasonRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        release = review.reject(conn, body.ref, actor(principal), body.reason)
        conclude_review(conn, release.job_id)
        return describe(conn, release)


def revoke(pool: Pool, machine: CoreMachine, body: ReasonRequest, principal: Principal) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        release = review.revoke(conn, body.ref, actor(principal), body.reason)
        follow(conn, machine, release)
        return describe(conn, find_release(conn, release.release_id))


def clear(pool: Pool, machine: CoreMachine, body: ClearanceRequest, principal: Principal) -> dict[str, Any]:
    """Change an approved release's clearance; the public zone follows."""
    with pool.connection() as conn, conn.transaction():
        release = change_clearance(conn, body.ref, body.clearance_state, actor(principal), body.notes)
        follow(conn, machine, release)
        return describe(conn, find_release(conn, release.release_id))


def remove(
    pool: Pool, machine: CoreMachine, storage: Storage, body: UnpublishRequest, principal: Principal
) -> dict[str, Any]:
    """Dry run (default): what would go. Otherwise delete it; approved releases need an admin."""
    if body.force_approved and not principal.has(Role.admin):
        raise Forbidden("force_approved needs the admin role.", "Ask an admin, or revoke the release first.")
    with pool.connection() as conn:
        if body.dry_run:
            return {"dry_run": True, **plan(conn, find_release(conn, body.ref)).to_dict()}
        with conn.transaction():
            removal = unpublish(conn, body.ref, actor(principal), body.force_approved)
            release = find_release(conn, removal.release_id)
            conclude_review(conn, release.job_id)
            follow(conn, machine, release)
    delete_blobs(storage, removal)
    return {"dry_run": False, **removal.to_dict()}
