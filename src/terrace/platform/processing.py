"""Between the platform and CoreMachine: the job a release runs, and what its completion records."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog.identity import draft_table_base
from terrace.catalog.releases import Release
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.platform.requests import SubmitRequest

DRAFT_SCHEMA = "geo_draft"


def job_parameters(release: Release, request: SubmitRequest) -> dict[str, Any]:
    """The processing job's parameters; `revision` makes a new revision a new job."""
    options = request.processing_options.model_dump(exclude_defaults=True)
    options.pop("overwrite", None)
    files = request.files
    return {
        "container": request.container_name,
        "path": files[0] if len(files) == 1 else files,
        "dataset_id": release["dataset_id"],
        "resource_id": release["resource_id"],
        "release_id": release["release_id"],
        "revision": release["revision"],
        "table_name": draft_table_base(
            release["dataset_id"], release["resource_id"], release["version_ordinal"]
        ),
        "target_schema": DRAFT_SCHEMA,
        "access_level": release["access_level"],
        "title": release["title"],
        "description": release["description"],
        **options,
    }


def record_outcome(conn: Connection, job: dict[str, Any]) -> None:
    """Completion hook: a finished job's outputs (or error) land on its release."""
    q = queries("releases")
    release = conn.execute(q["release_of_job"], {"job_id": job["job_id"]}).fetchone()
    if release is None:  # a revision superseded this job: its outcome belongs to no release
        return
    if job["status"] != "completed":
        conn.execute(
            q["processing_failed"], {"release_id": release["release_id"], "error": Jsonb(job["error"])}
        )
        return
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
    conn.execute(
        q["processing_completed"],
        {
            "release_id": release["release_id"],
            "warnings": Jsonb(result.get("warnings", [])),
            "outputs": Jsonb(result.get("outputs", {})),
        },
    )
    conn.execute(
        queries("orchestration")["set_job_status"], {"job_id": job["job_id"], "status": "awaiting_approval"}
    )
