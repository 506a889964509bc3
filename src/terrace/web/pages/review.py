"""Review: the queue of drafts, and a draft's page with its map, rows, warnings, statistics and
comparison with the served release, where reviewers approve or reject it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from terrace.auth import Principal, Role, require_role
from terrace.db.models.catalog import DRAFT_SCHEMA
from terrace.db.queries import queries
from terrace.dependencies import Machine, Pool, StorageDep
from terrace.errors import NotFound, TerraceError
from terrace.platform import resolve, review
from terrace.platform.requests import ApproveRequest, ReasonRequest
from terrace.platform.views import describe
from terrace.platform.visibility import Viewer, require_release, visible_release
from terrace.web import previews
from terrace.web.forms import invalid_input
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/review")
Reviewer = Annotated[Principal, Depends(needs(Role.reviewer))]


@router.get("")
def queue(request: Request, pool: Pool, user: User) -> Response:
    """The drafts awaiting review that the user may see (a submitter: its own)."""
    with pool.connection() as conn:
        drafts = resolve.approvals(conn, Viewer.of(user), "pending_review", None, 200)
    return render(request, "review_queue.html", user=user, drafts=drafts)


@router.get("/{release_id}")
def page(request: Request, release_id: str, pool: Pool, user: User) -> Response:
    """For reviewers who may see the release: other users are refused, whatever the release."""
    require_role(user, Role.reviewer, "review pages")
    with pool.connection() as conn:
        release = visible_release(conn, Viewer.of(user), release_id)
        context: dict[str, Any] = {"release": describe(conn, release), "table": None, "compare": None}
        context["cogs"] = [
            dict(r)
            for r in conn.execute(queries("web")["cogs_of_release"], {"release_id": release.release_id})
        ]
        table = previews.primary_table(conn, release.release_id)
        if table is not None and table["schema_name"] == DRAFT_SCHEMA:
            context["table"] = table
            context["names"], context["rows"] = previews.sample(conn, DRAFT_SCHEMA, table["table_name"])
            context["bounds"] = previews.extent(conn, DRAFT_SCHEMA, table["table_name"])
            context["compare"] = previews.comparison(conn, release)
    return render(request, "review.html", user=user, **context)


@router.get("/{release_id}/features.geojson")
def draft_features(release_id: str, pool: Pool, user: User) -> Response:
    """The draft's features for the review map: reviewers only, drafts are not served."""
    require_role(user, Role.reviewer, "draft previews")
    with pool.connection() as conn:
        table = previews.primary_table(conn, visible_release(conn, Viewer.of(user), release_id).release_id)
        if table is None or table["schema_name"] != DRAFT_SCHEMA:
            raise NotFound(f"Release {release_id} has no draft table.", "Only vector drafts have one.")
        return JSONResponse(previews.features(conn, DRAFT_SCHEMA, table["table_name"]))


@router.get("/{release_id}/thumbnails/{index}.png")
def thumbnail(release_id: str, index: int, pool: Pool, storage: StorageDep, user: User) -> Response:
    """The thumbnail of the release's `index`-th COG, for the review map of a raster draft."""
    require_role(user, Role.reviewer, "draft previews")
    with pool.connection() as conn:
        visible_release(conn, Viewer.of(user), release_id)
        cogs = [dict(r) for r in conn.execute(queries("web")["cogs_of_release"], {"release_id": release_id})]
    if not 0 <= index < len(cogs) or not cogs[index]["thumbnail_path"]:
        raise NotFound(f"Release {release_id} has no thumbnail {index}.", "Open the release's review page.")
    png = storage.get(cogs[index]["container"], cogs[index]["thumbnail_path"])
    return Response(png, media_type="image/png")


@router.post("/{release_id}/approve")
def approve(
    request: Request,
    release_id: str,
    pool: Pool,
    machine: Machine,
    user: Reviewer,
    version_id: Annotated[str, Form()] = "",
    clearance_state: Annotated[str, Form()] = "ouo",
    notes: Annotated[str, Form()] = "",
) -> Response:
    def action() -> dict[str, Any]:
        body = ApproveRequest(
            release_id=release_id,
            version_id=version_id or None,
            clearance_state=clearance_state,
            notes=notes or None,
        )
        require_release(pool, user, release_id)
        return review.approve(pool, machine, body, user)

    return _act(request, release_id, user, action)


@router.post("/{release_id}/reject")
def reject(
    request: Request, release_id: str, pool: Pool, user: Reviewer, reason: Annotated[str, Form()] = ""
) -> Response:
    def action() -> dict[str, Any]:
        require_release(pool, user, release_id)
        return review.reject(pool, ReasonRequest(release_id=release_id, reason=reason), user)

    return _act(request, release_id, user, action)


def _act(
    request: Request, release_id: str, user: Principal, action: Callable[[], dict[str, Any]]
) -> Response:
    """Run a review action; on success show the asset, else say why with a way back."""
    try:
        done = action()
    except ValidationError as exc:
        return _refused(request, user, invalid_input(exc), release_id)
    except TerraceError as exc:
        return _refused(request, user, exc, release_id)
    return RedirectResponse(f"/interface/assets/{done['dataset_id']}/{done['resource_id']}", status_code=303)


def _refused(request: Request, user: Principal, error: TerraceError, release_id: str) -> Response:
    back = f"/interface/review/{release_id}"
    return render(request, "error.html", status_code=400, user=user, error=error, back=back)
