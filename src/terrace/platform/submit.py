"""Submit: validate → upsert asset → create or reuse the draft release → record the request → job."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog import identity
from terrace.catalog.releases import Release, find_release
from terrace.catalog.states import transition
from terrace.catalog.unpublish import UnpublishPlan, delete_blobs, remove_outputs
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput
from terrace.ingest.release import DEFAULT_INPUT_CONTAINERS, require_input_container
from terrace.platform.requests import SubmitRequest
from terrace.storage import Storage

VECTOR_EXTENSIONS = {
    ".gpkg",
    ".shp",
    ".zip",
    ".geojson",
    ".json",
    ".kml",
    ".kmz",
    ".gml",
    ".fgb",
    ".parquet",
    ".geoparquet",
    ".csv",
}
RASTER_EXTENSIONS = {".tif", ".tiff", ".jp2", ".img"}
JOB_TYPES = {
    "vector": "process_vector",
    "raster": "process_raster",
    "raster_collection": "process_raster_collection",
}

# Submits a job inside the caller's transaction and returns its job_id (CoreMachine's submit).
SubmitJob = Callable[[Connection, str, dict[str, Any]], str]
# Builds a job's parameters from the release it processes and the data type.
JobParameters = Callable[[Release, SubmitRequest, str], dict[str, Any]]


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


def infer_data_type(files: list[str]) -> str:
    suffixes = {PurePosixPath(f).suffix.lower() for f in files}
    if len(files) > 1:
        if suffixes <= RASTER_EXTENSIONS:
            return "raster_collection"
        raise InvalidInput(
            "A list of files is a raster collection: every file must be a raster.",
            f"Submit GeoTIFF/JPEG2000 files ({', '.join(sorted(RASTER_EXTENSIONS))}).",
        )
    (suffix,) = suffixes
    if suffix in VECTOR_EXTENSIONS:
        return "vector"
    if suffix in RASTER_EXTENSIONS:
        return "raster"
    raise InvalidInput(
        f"Cannot tell the data type of {files[0]!r} from its extension {suffix or '(none)'}.",
        "Supported: vector "
        + ", ".join(sorted(VECTOR_EXTENSIONS))
        + "; raster "
        + ", ".join(sorted(RASTER_EXTENSIONS))
        + ".",
    )


def validate(
    storage: Storage, request: SubmitRequest, input_containers: Collection[str] = DEFAULT_INPUT_CONTAINERS
) -> Submission:
    """Everything that can be checked without writing: names, options, files present in an
    input container."""
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
    if request.version_id:
        key = "version:" + identity.normalize_version(request.version_id)
    else:
        key = "sha256:" + ",".join(storage.sha256(request.container_name, f) for f in request.files)
    asset = identity.asset_id(dataset, resource)
    return Submission(request, dataset, resource, data_type, asset, key, identity.release_id(asset, key))


def check(conn: Connection, submission: Submission) -> Release | None:
    """The existing release this submission names (None if new); Conflict if it may not proceed."""
    q = queries("releases")
    known = conn.execute(q["asset_data_type"], {"asset_id": submission.asset_id}).fetchone()
    if known and known["data_type"] != submission.data_type:
        raise Conflict(
            f"Asset {submission.dataset_id}/{submission.resource_id} holds {known['data_type']} data.",
            "Submit the same kind of data, or use another resource_id.",
        )
    existing = conn.execute(q["release_by_ref"], {"ref": submission.release_id}).fetchone()
    if existing is not None and submission.request.processing_options.overwrite:
        transition(dict(existing), "resubmit")
    if existing is None or submission.request.processing_options.overwrite:
        busy = conn.execute(
            q["busy_draft"], {"asset_id": submission.asset_id, "release_id": submission.release_id}
        ).fetchone()
        if busy is not None:
            raise Conflict(
                f"Another draft of this asset ({busy['release_id']}) is still processing.",
                "Wait for it to finish (or fail), then submit again.",
            )
    return None if existing is None else dict(existing)


@dataclass(frozen=True)
class Submitted:
    response: dict[str, Any]
    removal: UnpublishPlan | None  # outputs of the overwritten revision, whose blobs go after commit


def record(
    conn: Connection, submission: Submission, actor: str, submit_job: SubmitJob, job_parameters: JobParameters
) -> Submitted:
    """Write the submission; call inside a transaction. The same submission again is idempotent."""
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
    existing = check(conn, submission)
    if existing is not None and not request.processing_options.overwrite:
        known = conn.execute(
            q["request_of_release"], {"release_id": existing["release_id"], "revision": existing["revision"]}
        ).fetchone()
        if known is not None:
            return Submitted(_response(existing, known["request_id"], known["job_id"], created=False), None)
    fields = {
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
        conn.execute(q["new_revision"], fields)
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
    job_id = submit_job(
        conn, JOB_TYPES[submission.data_type], job_parameters(release, request, submission.data_type)
    )
    conn.execute(q["start_processing"], {"release_id": release["release_id"], "job_id": job_id})
    request_id = identity.request_id(release["release_id"], release["revision"])
    conn.execute(
        q["insert_request"],
        {
            "request_id": request_id,
            "release_id": release["release_id"],
            "revision": release["revision"],
            "job_id": job_id,
            "submitted_by": actor,
            "payload": Jsonb(request.model_dump()),
        },
    )
    return Submitted(_response(release, request_id, job_id, created=True), removal)


def finish(storage: Storage, submitted: Submitted) -> dict[str, Any]:
    """After the commit: delete the overwritten revision's blobs."""
    if submitted.removal is not None:
        delete_blobs(storage, submitted.removal)
    return submitted.response


def _response(release: Release, request_id: str, job_id: str, created: bool) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "job_id": job_id,
        "asset_id": release["asset_id"],
        "release_id": release["release_id"],
        "revision": release["revision"],
        "created": created,
        "links": {"status": f"/api/platform/status/{request_id}", "job": f"/api/jobs/{job_id}"},
    }
