"""Platform API (SPEC §7): submit, status, approve/reject/revoke, unpublish, catalog resolution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from terrace.api.deps import Pool, StorageDep, require
from terrace.auth import Principal, Role
from terrace.orchestration.status import job_status
from terrace.platform import resolve, review
from terrace.platform.requests import ApproveRequest, ReasonRequest, SubmitRequest, UnpublishRequest
from terrace.platform.status import submission_status
from terrace.platform.submit import finish, record, validate
from terrace.platform.visibility import Viewer, require_release

router = APIRouter(prefix="/api/platform", tags=["platform"])
Reader = Annotated[Principal, Depends(require(Role.reader))]
Submitter = Annotated[Principal, Depends(require(Role.submitter))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]


@router.post("/submit", status_code=202)
def submit(
    body: SubmitRequest,
    request: Request,
    response: Response,
    pool: Pool,
    storage: StorageDep,
    principal: Submitter,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Submit a file from bronze for processing; `?dry_run=true` validates and creates nothing."""
    submission = validate(storage, body, request.app.state.job_defaults.input_containers)
    machine = request.app.state.machine
    with pool.connection() as conn:
        if dry_run:
            return {
                "dry_run": True,
                "valid": True,
                "data_type": submission.data_type,
                "asset_id": submission.asset_id,
                "release_id": submission.release_id,
            }
        with conn.transaction():
            submitted = record(
                conn,
                submission,
                review.actor(principal),
                machine.submit_in,
                request.app.state.job_defaults.job_parameters,
            )
    if not submitted.response["created"]:
        response.status_code = 200
    return finish(storage, submitted)


@router.get("/status/{ref}")
def status(ref: str, request: Request, pool: Pool, principal: Reader) -> dict[str, Any]:
    """A submission by request_id, job_id or release_id."""
    machine = request.app.state.machine
    with pool.connection() as conn:
        return submission_status(
            conn,
            Viewer.of(principal),
            ref,
            lambda c, job_id: job_status(c, machine.registry, machine.storage, job_id),
        )


@router.post("/approve")
def approve(body: ApproveRequest, pool: Pool, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.approve(pool, body, principal)


@router.post("/reject")
def reject(body: ReasonRequest, pool: Pool, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.reject(pool, body, principal)


@router.post("/revoke")
def revoke(body: ReasonRequest, pool: Pool, principal: Reviewer) -> dict[str, Any]:
    require_release(pool, principal, body.ref)
    return review.revoke(pool, body, principal)


@router.post("/unpublish")
def unpublish(body: UnpublishRequest, pool: Pool, storage: StorageDep, principal: Reviewer) -> dict[str, Any]:
    """Lists (dry_run, the default) or removes a release's outputs; force_approved needs admin."""
    require_release(pool, principal, body.ref)
    return review.remove(pool, storage, body, principal)


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
