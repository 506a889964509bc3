"""Submit a zonal job, the use case behind POST /api/analytics/zonal: resolve the inputs the caller
may see → upsert the output asset → create the draft release (most restrictive access level of
the inputs) → record the request → submit zonal_statistics, in one transaction. The same
request again returns what the first one recorded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from terrace.analytics.zonal.inputs import (
    ServedRelease,
    combined_access,
    raster_file,
    require_raster,
    require_weights_fit,
    served_release,
    zone_table,
)
from terrace.analytics.zonal.job import JOB_TYPE
from terrace.analytics.zonal.params import GridRef, GridZones, ReleaseZones, ZonalRequest
from terrace.analytics.zonal.stats import CLASSES, require_weights
from terrace.auth import Principal
from terrace.catalog import identity
from terrace.catalog.releases import Release, find_release
from terrace.db.pool import Connection, Pool, fetch_one
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput
from terrace.observability.tracing import current_request_id
from terrace.orchestration.machine import CoreMachine
from terrace.platform.review import actor
from terrace.platform.submit import Receipt
from terrace.platform.visibility import Viewer

DATA_TYPE = "vector"


@dataclass(frozen=True)
class ZonalSubmission:
    """A checked request: inputs the caller may see, the release it makes, nothing written yet."""

    request: ZonalRequest
    dataset_id: str
    resource_id: str
    asset_id: str
    release_id: str
    submission_key: str
    raster_release_id: str
    weights_release_id: str | None
    zones: GridZones | ReleaseZones
    sources: dict[str, Any]  # what it is computed from: the same sources are the same release
    access_level: str
    granted_roles: list[str]


def submit_zonal(
    pool: Pool, machine: CoreMachine, request: ZonalRequest, principal: Principal, chunk_size: int
) -> Receipt:
    """Submit the statistics of `request` as `principal`, in chunks of `chunk_size` zones."""
    with pool.connection() as conn, conn.transaction():
        submission = validate(conn, Viewer.of(principal), request)
        return _record(conn, machine, submission, actor(principal), chunk_size)


def validate(conn: Connection, viewer: Viewer, request: ZonalRequest) -> ZonalSubmission:
    """The inputs, each a served release the viewer may see (404 otherwise), fit for the job."""
    dataset = identity.normalize_slug(request.output.dataset_id, "dataset_id")
    resource = identity.normalize_slug(request.output.resource_id, "resource_id")
    require_weights(request.stats, request.weights is not None)
    raster = require_raster(served_release(conn, viewer, request.raster, "raster"))
    _check_raster(conn, raster, request.stats)
    inputs = [raster]
    sources: dict[str, Any] = {"raster": raster.release_id}
    if request.weights is not None:
        weights = require_raster(served_release(conn, viewer, request.weights, "weights"))
        file = raster_file(conn, weights.release_id)
        require_weights_fit(raster_file(conn, raster.release_id), file, weights.name)
        inputs.append(weights)
        sources["weights"] = weights.release_id
    zones: GridZones | ReleaseZones
    if isinstance(request.zones, GridRef):
        zones = GridZones(grid=request.zones.h3_grid, resolution=request.zones.resolution)
    else:
        zone_release = served_release(conn, viewer, request.zones, "zones")
        zones = ReleaseZones(release_id=zone_release.release_id)
        inputs.append(zone_release)
    zone_table(conn, zones)
    sources |= {"zones": zones.model_dump(), "stats": request.stats}
    key = "zonal:" + hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()
    asset = identity.asset_id(dataset, resource)
    access_level, grants = combined_access(inputs)
    return ZonalSubmission(
        request,
        dataset,
        resource,
        asset,
        identity.release_id(asset, key),
        key,
        raster.release_id,
        sources.get("weights"),
        zones,
        sources,
        access_level,
        grants,
    )


def _check_raster(conn: Connection, raster: ServedRelease, stats: list[str]) -> None:
    """What can be told from the raster's metadata before any task runs."""
    file = raster_file(conn, raster.release_id)
    file.srid()  # refuses a CRS zones cannot be projected onto
    per_class = [s for s in stats if s in CLASSES]
    if per_class and file.dtype.startswith("float"):
        raise InvalidInput(
            f"{', '.join(per_class)} summarise classes, and {raster.name} holds {file.dtype} values.",
            "Ask for frac of a categorical (integer) raster; for this one use mean, majority or variety.",
        )


def _record(
    conn: Connection, machine: CoreMachine, submission: ZonalSubmission, submitted_by: str, chunk_size: int
) -> Receipt:
    q = queries("releases")
    asset_id, release_id = submission.asset_id, submission.release_id
    conn.execute(
        q["upsert_asset"],
        {
            "asset_id": asset_id,
            "platform_id": identity.PLATFORM_ID,
            "dataset_id": submission.dataset_id,
            "resource_id": submission.resource_id,
            "data_type": DATA_TYPE,
        },
    )
    conn.execute(q["lock_asset"], {"asset_id": asset_id})
    known = fetch_one(conn, q["asset_data_type"], {"asset_id": asset_id})
    if known["data_type"] != DATA_TYPE:
        raise Conflict(
            f"Asset {submission.dataset_id}/{submission.resource_id} holds {known['data_type']} data.",
            "Write the statistics to another resource_id.",
        )
    existing = conn.execute(q["release_by_ref"], {"ref": release_id}).fetchone()
    if existing is not None:
        recorded = fetch_one(
            conn, q["request_of_release"], {"release_id": release_id, "revision": existing["revision"]}
        )
        return _receipt(Release.of(existing), recorded["request_id"], recorded["job_id"], created=False)
    busy = conn.execute(q["busy_draft"], {"asset_id": asset_id, "release_id": release_id}).fetchone()
    if busy is not None:
        raise Conflict(
            f"Another draft of this asset ({busy['release_id']}) is still processing.",
            "Wait for it to finish (or fail), then submit again.",
        )
    output = submission.request.output
    conn.execute(
        q["insert_release"],
        {
            "release_id": release_id,
            "asset_id": asset_id,
            "submission_key": submission.submission_key,
            "suggested_version_id": None,
            "version_ordinal": fetch_one(conn, q["next_ordinal"], {"asset_id": asset_id})["ordinal"],
            "title": output.title,
            "description": output.description,
            "access_level": submission.access_level,
            "granted_roles": submission.granted_roles,
            "source": Jsonb(submission.sources),
            "processing_options": Jsonb({}),
        },
    )
    release = find_release(conn, release_id)
    parameters = {
        "dataset_id": release.dataset_id,
        "resource_id": release.resource_id,
        "release_id": release_id,
        "version_ordinal": release.version_ordinal,
        "revision": release.revision,
        "access_level": release.access_level,
        "title": release.title,
        "description": release.description,
        "raster_release_id": submission.raster_release_id,
        "weights_release_id": submission.weights_release_id,
        "zones": submission.zones.model_dump(),
        "stats": submission.request.stats,
        "chunk_size": chunk_size,
    }
    job_id, _ = machine.submit(conn, JOB_TYPE, parameters, submitted_by=submitted_by)
    conn.execute(q["start_processing"], {"release_id": release_id, "job_id": job_id})
    request_id = identity.request_id(release_id, release.revision)
    conn.execute(
        q["insert_request"],
        {
            "request_id": request_id,
            "release_id": release_id,
            "revision": release.revision,
            "job_id": job_id,
            "submitted_by": submitted_by,
            "payload": Jsonb(submission.request.model_dump()),
            "http_request_id": current_request_id(),
        },
    )
    return _receipt(release, request_id, job_id, created=True)


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
