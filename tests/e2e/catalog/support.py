"""A populated catalog for the consistency tests, and snapshots of what a repair may change."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.integration.raster import files

FINISHED = {"completed", "failed", "cancelled"}


def wait_job(api: httpx.Client, key: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] in FINISHED:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still running: {job}")


def publish(api: httpx.Client, keys: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Two vector assets and one raster asset, approved; one vector draft; one failed job.
    Returns their release ids (and the failed job's id) by name."""
    submitter, reviewer = keys["submitter"], keys["reviewer"]
    sources = {
        "floods": ("floods", "jakarta", write_points(tmp_path / "floods.gpkg", 20)),
        "roads": ("roads", "jakarta", write_points(tmp_path / "roads.gpkg", 10)),
        "bandung": ("floods", "bandung", _bow_tie(tmp_path / "bandung.geojson")),
        "relief": ("relief", "java", files.rgb(tmp_path / "relief.tif", size=256)),
        "broken": ("broken", "empty", _empty(tmp_path / "broken.geojson")),
    }
    requests = {}
    for name, (dataset, resource, file) in sources.items():
        upload(api, submitter, file, f"{name}/{file.name}")
        response = submit(api, submitter, f"{name}/{file.name}", dataset_id=dataset, resource_id=resource)
        assert response.status_code == 202, response.text
        requests[name] = response.json()
    ids = {}
    for name, request in requests.items():
        status = wait_done(api, submitter, request["request_id"])
        ids[name] = request["release_id"]
        if name == "broken":
            assert status["job"]["status"] == "failed", status
            ids["failed_job"] = request["job_id"]
        elif name != "bandung":
            assert approve(api, reviewer, request["release_id"]).status_code == 200
    return ids


def _bow_tie(path: Path) -> Path:
    """A self-intersecting polygon: its repair leaves a repair report, the draft's one file."""
    ring = [[107.6, -6.9], [107.7, -6.8], [107.7, -6.9], [107.6, -6.8], [107.6, -6.9]]
    feature = {
        "type": "Feature",
        "properties": {"name": "x"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _empty(path: Path) -> Path:
    path.write_text('{"type": "FeatureCollection", "features": []}')
    return path


def snapshot(database_url: str, storage: Storage) -> dict[str, Any]:
    """Tables and views of the data schemas, silver's objects, pgSTAC's items and collections."""
    root = storage.local_path("silver", "x").parent  # type: ignore[union-attr]
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('geo', 'geo_draft') ORDER BY 1, 2"
        ).fetchall()
        items = conn.execute("SELECT collection, id, content FROM pgstac.items ORDER BY 1, 2").fetchall()
        collections = conn.execute("SELECT id FROM pgstac.collections ORDER BY 1").fetchall()
    return {
        "tables": tables,
        "blobs": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
        "items": items,
        "collections": collections,
    }
