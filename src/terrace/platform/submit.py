"""Submit, the use case behind POST /api/platform/submit and the web UI: validate → upsert the
asset → create or reuse the draft release → record the request → submit the job, in one
transaction; after the commit, delete the blobs of an overwritten revision."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from terrace.auth import Principal
from terrace.catalog import identity
from terrace.catalog.releases import Release, find_release
from terrace.catalog.states import apply_transition, transition
from terrace.catalog.unpublish import UnpublishPlan, delete_blobs, remove_outputs
from terrace.db.pool import Connection, Pool, fetch_one
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput
from terrace.ingest.release import require_input_container
from terrace.observability.tracing import current_request_id
from terrace.orchestration.machine import CoreMachine
from terrace.platform.data_types import JOB_TYPES, infer_data_type
from terrace.platform.processing import JobDefaults
from terrace.platform.requests import SubmitRequest
from terrace.platform.review import actor
from terrace.platform.sidecars import is_shapefile, require_sidecars
from terrace.storage import Storage


@dataclass(frozen=True)
class Submission:
    """A validated request: identities, data type and source checked, nothing written yet."""

    request: SubmitRequest
    dataset_id: str
    resource_id: str
    data_type: str
    asset_id: str
    submission_key: str
    release_id: str


class Receipt(BaseModel):
    """A recorded submission: its request, job and release; `created` is False when the same
    submission had been recorded before and nothing new was written."""

    request_id: str
    job_id: str
    asset_id: str
    release_id: str
    revision: int
    created: bool
    links: dict[str, str]


@dataclass(frozen=True)
class SubmitOutcome:
    """The validated submission and, unless it was a dry run, its receipt."""

    submission: Submission
    receipt: Receipt | None


def submit_release(
    pool: Pool,
    machine: CoreMachine,
    storage: Storage,
    defaults: JobDefaults,
    request: SubmitRequest,
    principal: Principal,
    dry_run: bool = False,
) -> SubmitOutcome:
    """Submit the request's file(s) for processing as `principal`; a dry run only validates and
    writes nothing. The same submission again returns the receipt recorded the first time."""
    submission = validate(storage, request, defaults.input_containers)
    if dry_run:
        return SubmitOutcome(submission, None)
    with pool.connection() as conn, conn.transaction():
        receipt, removal = _record(conn, submission, actor(principal), machine, defaults)
    if removal is not None:
        delete_blobs(storage, removal)
    return SubmitOutcome(submission, receipt)


def validate(storage: Storage, request: SubmitRequest, input_containers: Collection[str]) -> Submission:
    """Everything that can be checked without writing: names, options, files present in an
    input container (a shapefile's .shx and .dbf beside its .shp). The submission key digests
    a shapefile's sidecars too, so a changed .dbf is a new release."""
    require_input_container(request.container_name, input_containers)
    dataset = identity.normalize_slug(request.dataset_id, "dataset_id")
    resource = identity.normalize_slug(request.resource_id, "resource_id")
    data_type = infer_data_type(request.files)
    request.processing_options.for_job(data_type)
    for name in request.files:
        if not storage.exists(request.container_name, name):
            raise InvalidInput(
                f"File {name!r} was not found in container {request.container_name!r}.",
                f"Upload it first: PUT /api/storage/{request.container_name}/{name}.",
            )
    digested = list(request.files)
    for name in request.files:
        if is_shapefile(name):
            digested += require_sidecars(storage, request.container_name, name)
    if request.version_id:
        key = "version:" + identity.normalize_version(request.version_id)
    else:
        key = "sha256:" + ",".join(storage.sha256(request.container_name, f) for f in digested)
    asset = identity.asset_id(dataset, resource)
    return Submission(request, dataset, resource, data_type, asset, key, identity.release_id(asset, key))


def _existing(conn: Connection, submission: Submission) -> Release | None:
    """The existing release this submission names (None if new); Conflict if it may not proceed."""
    q = queries("releases")
    known = conn.execute(q["asset_data_type"], {"asset_id": submission.asset_id}).fetchone()
    if known and known["data_type"] != submission.data_type:
        raise Conflict(
            f"Asset {submission.dataset_id}/{submission.resource_id} holds {known['data_type']} data.",
            "Submit the same kind of data, or use another resource_id.",
        )
    existing = conn.execute(q["release_by_ref"], {"ref": submission.release_id}).fetchone()
    rerun = existing is not None and _reruns(Release.of(existing), submission.request)
    if rerun:
        transition(Release.of(existing), "resubmit")
    if existing is None or rerun:
        busy = conn.execute(
            q["busy_draft"], {"asset_id": submission.asset_id, "release_id": submission.release_id}
        ).fetchone()
        if busy is not None:
            raise Conflict(
                f"Another draft of this asset ({busy['release_id']}) is still processing.",
                "Wait for it to finish (or fail), then submit again.",
            )
    return None if existing is None else Release.of(existing)


def _reruns(existing: Release, request: SubmitRequest) -> bool:
    """Whether submitting the same file(s) again processes them again: when `overwrite` asks
    for it, or when the release failed and other processing options now come with it (the fix
    its error named, e.g. the `layer` to load)."""
    options = request.processing_options
    given = options.model_dump(exclude_defaults=True, exclude={"overwrite"})
    recorded = {k: v for k, v in existing.processing_options.items() if k != "overwrite"}
    return options.overwrite or (existing.processing_status == "failed" and given != recorded)


def _record(
    conn: Connection, submission: Submission, submitted_by: str, machine: CoreMachine, defaults: JobDefaults
) -> tuple[Receipt, UnpublishPlan | None]:
    """Write the submission inside the caller's transaction; with it, the outputs of the
    overwritten revision, whose blobs go after the commit."""
    q = queries("releases")
    request = submission.request
    conn.execute(
        q["upsert_asset"],
        {
            "asset_id": submission.asset_id,
            "platform_id": identity.PLATFORM_ID,
            "dataset_id": submission.dataset_id,
            "resource_id": submission.resource_id,
            "data_type": submission.data_type,
        },
    )
    conn.execute(q["lock_asset"], {"asset_id": submission.asset_id})
    existing = _existing(conn, submission)
    if existing is not None and not _reruns(existing, request):
        known = conn.execute(
            q["request_of_release"], {"release_id": existing.release_id, "revision": existing.revision}
        ).fetchone()
        if known is not None:
            return _receipt(existing, known["request_id"], known["job_id"], created=False), None
    fields: dict[str, Any] = {
        "release_id": submission.release_id,
        "title": request.title,
        "description": request.description,
        "access_level": request.access_level,
        "granted_roles": request.granted_roles,
        "source": Jsonb({"container": request.container_name, "files": request.files}),
        "processing_options": Jsonb(request.processing_options.model_dump(exclude_defaults=True)),
    }
    removal = None
    if existing is not None:
        removal = remove_outputs(conn, existing)
        apply_transition(
            conn, existing, "resubmit", submitted_by, details={"revision": existing.revision + 1}, **fields
        )
    else:
        ordinal = fetch_one(conn, q["next_ordinal"], {"asset_id": submission.asset_id})["ordinal"]
        conn.execute(
            q["insert_release"],
            {
                **fields,
                "asset_id": submission.asset_id,
                "submission_key": submission.submission_key,
                "suggested_version_id": request.version_id,
                "version_ordinal": ordinal,
            },
        )
    release = find_release(conn, submission.release_id)
    parameters = defaults.job_parameters(release, request, submission.data_type)
    job_id, _ = machine.submit(conn, JOB_TYPES[submission.data_type], parameters, submitted_by=submitted_by)
    conn.execute(q["start_processing"], {"release_id": release.release_id, "job_id": job_id})
    request_id = identity.request_id(release.release_id, release.revision)
    conn.execute(
        q["insert_request"],
        {
            "request_id": request_id,
            "release_id": release.release_id,
            "revision": release.revision,
            "job_id": job_id,
            "submitted_by": submitted_by,
            "payload": Jsonb(request.model_dump()),
            "http_request_id": current_request_id(),
        },
    )
    return _receipt(release, request_id, job_id, created=True), removal


def _receipt(release: Release, request_id: str, job_id: str, created: bool) -> Receipt:
    return Receipt(
        request_id=request_id,
        job_id=job_id,
        asset_id=release.asset_id,
        release_id=release.release_id,
        revision=release.revision,
        created=created,
        links={"status": f"/api/platform/status/{request_id}", "job": f"/api/jobs/{job_id}"},
    )
