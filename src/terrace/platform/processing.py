"""Between the platform and CoreMachine: the job a release runs, and what its completion records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog.releases import Release
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.ingest.release import DEFAULT_INPUT_CONTAINERS
from terrace.platform.requests import SubmitRequest


@dataclass(frozen=True)
class JobDefaults:
    """What the operator configures for every job the platform submits."""

    raster_tile_threshold: int = 2 * 1024**3
    # Containers submissions read from; silver (Terrace's outputs) is never one of them.
    input_containers: tuple[str, ...] = DEFAULT_INPUT_CONTAINERS
    # Zones per task of a zonal_statistics job.
    zonal_chunk_size: int = 20_000

    def job_parameters(self, release: Release, request: SubmitRequest, data_type: str) -> dict[str, Any]:
        """The processing job's parameters: the release names its outputs (the job derives them
        from dataset, resource, ordinal and revision); `revision` makes a new revision a new job."""
        files = request.files
        common = {
            "container": request.container_name,
            "dataset_id": release.dataset_id,
            "resource_id": release.resource_id,
            "release_id": release.release_id,
            "version_ordinal": release.version_ordinal,
            "revision": release.revision,
            "access_level": release.access_level,
            "title": release.title,
            "description": release.description,
            **request.processing_options.for_job(data_type),
        }
        if data_type == "vector":
            return {**common, "path": files[0]}
        return {
            **common,
            "path": files[0] if data_type == "raster" else files,
            "tile_threshold_bytes": self.raster_tile_threshold,
        }


def record_outcome(conn: Connection, job: dict[str, Any]) -> bool:
    """Completion hook: a finished job's outputs (or error) land on its release; True when that
    release now awaits review."""
    q = queries("releases")
    release = conn.execute(q["release_of_job"], {"job_id": job["job_id"]}).fetchone()
    if release is None:  # a revision superseded this job: its outcome belongs to no release
        return False
    if job["status"] != "completed":
        conn.execute(
            q["processing_failed"], {"release_id": release["release_id"], "error": Jsonb(job["error"])}
        )
        return False
    result = job["result"] or {}
    for table in result.get("tables", []):
        conn.execute(
            q["add_release_table"],
            {
                "release_id": release["release_id"],
                **{
                    key: table[key]
                    for key in (
                        "table_name",
                        "schema_name",
                        "geometry_type",
                        "feature_count",
                        "table_role",
                        "table_suffix",
                    )
                },
            },
        )
    # Draft previews apply the same rule as serving, so the draft's catalog rows carry its grants.
    conn.execute(q["grant_release_tables"], {"release_id": release["release_id"]})
    conn.execute(
        q["processing_completed"],
        {
            "release_id": release["release_id"],
            "warnings": Jsonb(result.get("warnings", [])),
            "outputs": Jsonb(result.get("outputs", {})),
        },
    )
    return True
