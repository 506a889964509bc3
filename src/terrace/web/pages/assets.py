"""An asset's page: its releases (versions, revisions, states, reviewers, audit), the latest marker,
and the revoke, clearance and unpublish actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from terrace.auth import Principal, Role
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.dependencies import Machine, Pool, StorageDep
from terrace.errors import NotFound, TerraceError
from terrace.platform import resolve, review
from terrace.platform.requests import ClearanceRequest, ReasonRequest, UnpublishRequest
from terrace.platform.visibility import Viewer, require_release
from terrace.web.forms import invalid_input
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/assets")
Reviewer = Annotated[Principal, Depends(needs(Role.reviewer))]


@router.get("/{dataset_id}/{resource_id}")
def asset(request: Request, dataset_id: str, resource_id: str, pool: Pool, user: User) -> Response:
    viewer = Viewer.of(user)
    with pool.connection() as conn:
        found = resolve.asset(conn, viewer, dataset_id, resource_id)
        releases = resolve.releases(conn, viewer, dataset_id, resource_id, "all")
        audits = {
            r["release_id"]: [dict(a) for a in conn.execute(queries("releases")["audit_of_release"], r)]
            for r in releases
        }
        latest = _latest(conn, viewer, dataset_id, resource_id)
    return render(
        request, "asset.html", user=user, asset=found, releases=releases, audits=audits, latest=latest
    )


@router.post("/{dataset_id}/{resource_id}/{release_id}/revoke")
def revoke(
    request: Request,
    dataset_id: str,
    resource_id: str,
    release_id: str,
    pool: Pool,
    machine: Machine,
    user: Reviewer,
    reason: Annotated[str, Form()] = "",
) -> Response:
    def action() -> Any:
        require_release(pool, user, release_id)
        return review.revoke(pool, machine, ReasonRequest(release_id=release_id, reason=reason), user)

    return _act(request, f"/interface/assets/{dataset_id}/{resource_id}", user, action)


@router.post("/{dataset_id}/{resource_id}/{release_id}/clearance")
def clearance(
    request: Request,
    dataset_id: str,
    resource_id: str,
    release_id: str,
    pool: Pool,
    machine: Machine,
    user: Reviewer,
    clearance_state: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    def action() -> Any:
        body = ClearanceRequest(release_id=release_id, clearance_state=clearance_state, notes=notes or None)
        require_release(pool, user, release_id)
        return review.clear(pool, machine, body, user)

    return _act(request, f"/interface/assets/{dataset_id}/{resource_id}", user, action)


@router.post("/{dataset_id}/{resource_id}/{release_id}/unpublish")
def unpublish(
    request: Request,
    dataset_id: str,
    resource_id: str,
    release_id: str,
    pool: Pool,
    machine: Machine,
    storage: StorageDep,
    user: Reviewer,
    force_approved: Annotated[bool, Form()] = False,
) -> Response:
    def action() -> Any:
        body = UnpublishRequest(release_id=release_id, dry_run=False, force_approved=force_approved)
        require_release(pool, user, release_id)
        return review.remove(pool, machine, storage, body, user)

    return _act(request, f"/interface/assets/{dataset_id}/{resource_id}", user, action)


def _latest(conn: Connection, viewer: Viewer, dataset_id: str, resource_id: str) -> str | None:
    """The release the asset's latest version is, if one is served."""
    try:
        return str(resolve.latest(conn, viewer, dataset_id, resource_id)["release_id"])
    except NotFound:
        return None


def _act(request: Request, back: str, user: Principal, action: Callable[[], Any]) -> Response:
    try:
        action()
    except ValidationError as exc:
        return render(request, "error.html", status_code=400, user=user, error=invalid_input(exc), back=back)
    except TerraceError as exc:
        return render(request, "error.html", status_code=400, user=user, error=exc, back=back)
    return RedirectResponse(back, status_code=303)
