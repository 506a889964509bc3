"""Platform API (SPEC §7): submit, status, approve/reject/revoke, unpublish, catalog resolution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from terrace.api.deps import current_principal, require
from terrace.auth import Principal, Role
from terrace.dependencies import Defaults, Machine, Pool, ServingDatabaseUrl, StorageDep
from terrace.orchestration.status import job_status
from terrace.platform import resolve, review
from terrace.platform.exports import export_release
from terrace.platform.requests import (
    ApproveRequest,
    ClearanceRequest,
    ReasonRequest,
    SubmitRequest,
    UnpublishRequest,
)
from terrace.platform.status import submission_status
from terrace.platform.submit import submit_release
from terrace.platform.visibility import Viewer, require_release

router = APIRouter(prefix="/api/platform", tags=["platform"])
Caller = Annotated[Principal | None, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require(Role.reader))]
Submitter = Annotated[Principal, Depends(require(Role.submitter))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]


@router.post("/submit", status_code=202)
def submit(
    body: SubmitRequest,
    response: Response,
    pool: Pool,
    machine: Machine,
    storage: StorageDep,
    defaults: Defaults,
    principal: Submitter,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Submit a file from bronze for processing; `?dry_run=true` validates and creates nothing.
    The same submission again answers 200 with what the first one created."""
    outcome = submit_release(pool, machine, storage, defaults, body, principal, dry_run)
    checked, receipt = outcome.submission, outcome.receipt
    if receipt is None:
        return {
            "dry_run": True,
            "valid": True,
            "data_type": checked.data_type,
            "asset_id": checked.asset_id,
            "release_id": checked.release_id,
        }
    if not receipt.created:
        response.status_code = 200
    return receipt.model_dump()


@router.get("/status/{ref}")
def status(ref: str, pool: Pool, machine: Machine, principal: Reader) -> dict[str, Any]:
    """A submission by request_id, job_id or release_id."""
    with pool.connection() as conn:
        return submission_status(
            conn,
            Viewer.of(principal),
            ref,
            lambda c, job_id: job_status(c, machine.registry, machine.storage, job_id),
        )


@router.post("/approve")
def approve(body: ApproveRequest, pool: Pool, machine: Machine, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.approve(pool, machine, body, principal)


@router.post("/reject")
def reject(body: ReasonRequest, pool: Pool, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.reject(pool, body, principal)


@router.post("/revoke")
def revoke(body: ReasonRequest, pool: Pool, machine: Machine, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.revoke(pool, machine, body, principal)


@router.post("/clearance")
def clearance(body: ClearanceRequest, pool: Pool, machine: Machine, principal: Reviewer) -> dict[str, Any]:
    """Clear an approved release `ouo` or `public`; the public zone exports or withdraws it."""
    require_release(pool, principal, body.ref)
    return review.clear(pool, machine, body, principal)


@router.post("/unpublish")
def unpublish(
    body: UnpublishRequest, pool: Pool, machine: Machine, storage: StorageDep, principal: Reviewer
) -> dict[str, Any]:
    """Lists (dry_run, the default) or removes a release's outputs; force_approved needs admin."""
    require_release(pool, principal, body.ref)
    return review.remove(pool, machine, storage, body, principal)


@router.get("/approvals")
def approvals(
    pool: Pool,
    principal: Reader,
    state: str | None = "pending_review",
    dataset_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        return resolve.approvals(conn, Viewer.of(principal), state, dataset_id, limit)


@router.get("/catalog/{dataset_id}/{resource_id}")
def asset(dataset_id: str, resource_id: str, pool: Pool, principal: Reader) -> dict[str, Any]:
    with pool.connection() as conn:
        return resolve.asset(conn, Viewer.of(principal), dataset_id, resource_id)


@router.get("/catalog/{dataset_id}/{resource_id}/latest")
def latest(dataset_id: str, resource_id: str, pool: Pool, principal: Reader) -> dict[str, Any]:
    with pool.connection() as conn:
        return resolve.latest(conn, Viewer.of(principal), dataset_id, resource_id)


@router.get("/catalog/{dataset_id}/{resource_id}/versions")
def versions(dataset_id: str, resource_id: str, pool: Pool, principal: Reader) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        return resolve.releases(conn, Viewer.of(principal), dataset_id, resource_id, "versions")


@router.get("/catalog/{dataset_id}/{resource_id}/drafts")
def drafts(dataset_id: str, resource_id: str, pool: Pool, principal: Reader) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        return resolve.releases(conn, Viewer.of(principal), dataset_id, resource_id, "drafts")


@router.get("/catalog/{dataset_id}/{resource_id}/{version_id}")
def version(
    dataset_id: str, resource_id: str, version_id: str, pool: Pool, principal: Reader
) -> dict[str, Any]:
    with pool.connection() as conn:
        return resolve.version(conn, Viewer.of(principal), dataset_id, resource_id, version_id)


@router.get("/catalog/{dataset_id}/{resource_id}/{version_id}/export", response_class=StreamingResponse)
def export(
    dataset_id: str,
    resource_id: str,
    version_id: str,
    pool: Pool,
    serving_url: ServingDatabaseUrl,
    principal: Caller,
    format: str = "parquet",
    part: str | None = None,
) -> StreamingResponse:
    """A served vector version (or `latest`) as a file, streamed: `format` parquet (GeoParquet
    1.1), csv (WKT geometry), fgb (FlatGeobuf) or gpkg (GeoPackage); `part` picks one table of a
    geometry split. Public versions need no credential."""
    found = export_release(
        pool, serving_url, Viewer.of(principal), dataset_id, resource_id, version_id, format, part
    )
    headers = {"Content-Disposition": f'attachment; filename="{found.filename}"'}
    if found.body.length is not None:
        headers["Content-Length"] = str(found.body.length)
    return StreamingResponse(found.body.chunks, media_type=found.media_type, headers=headers)
