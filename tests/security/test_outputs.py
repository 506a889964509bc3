"""Attacks on where jobs read and write: overwriting served data, re-publishing restricted outputs,
and submitting jobs past the Platform API. Each must fail with a 4xx (or a failed job) and leave
the served data exactly as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from pydantic import ValidationError

from terrace.auth import Role
from terrace.errors import Conflict
from terrace.ingest.raster import metadata
from terrace.settings import ProcessingSettings
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.integration.raster import files
from tests.integration.vector.files import polygons, write
from tests.workers import wait_for_job

PLATFORM_TYPES = ("process_raster", "process_raster_collection", "process_vector")


def publish_raster(api: httpx.Client, keys: dict[Role, str], tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """A small DEM submitted, processed and approved (by an admin, who may see any draft), cleared
    public unless restricted (which is never cleared public)."""
    upload(api, keys[Role.submitter], files.dem(tmp_path / "dem.tif", size=64), "relief/dem.tif")
    submitted = submit(api, keys[Role.submitter], "relief/dem.tif", **extra)
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    release_id = submitted.json()["release_id"]
    clearance = "ouo" if extra.get("access_level") == "restricted" else "public"
    assert approve(api, keys[Role.admin], release_id, clearance_state=clearance).status_code == 200
    return {"release_id": release_id, "cog": status["outputs"]["cogs"][0]["path"]}


def served(api: httpx.Client, database_url: str, storage: Storage, cog: str) -> dict[str, Any]:
    """What the world sees of the published COG: its bytes, its metadata row, a pixel read anonymously."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT release_id, job_id, sha256, bbox_4326 FROM app.cog_metadata WHERE path = %s", (cog,)
        ).fetchone()
    assert row is not None
    west, south, east, north = row["bbox_4326"]
    point = api.get(
        f"/tiles/collections/floods/items/floods-jakarta-v1/point/{(west + east) / 2},{(south + north) / 2}",
        params={"assets": "data"},
    )
    assert point.status_code == 200, point.text
    local = storage.local_path("silver", cog)
    assert local is not None
    return {"row": row, "file": hashlib.sha256(local.read_bytes()).hexdigest(), "pixel": point.json()}


def attacker_file(api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> str:
    upload(api, keys[Role.submitter], files.dem(tmp_path / "evil.tif", size=64, low=9000.0), "evil/dem.tif")
    return "evil/dem.tif"


def job_params(release: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Parameters of a processing job for ordinal 1 of floods/jakarta, as `release`."""
    return {
        "dataset_id": "floods",
        "resource_id": "jakarta",
        "release_id": release["release_id"],
        "version_ordinal": 1,
        "revision": 1,
        "access_level": "public",
        **extra,
    }


def test_a_submitter_cannot_run_processing_or_demo_jobs_past_the_platform_api(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage, tmp_path: Path
) -> None:
    api = platform_api
    release = publish_raster(api, keys, tmp_path)
    before = served(api, database_url, storage, release["cog"])
    evil = attacker_file(api, keys, tmp_path)
    attack = job_params(release, path=evil, output_prefix=release["cog"].rsplit("/", 1)[0])
    for job_type in PLATFORM_TYPES:
        response = api.post(f"/api/jobs/submit/{job_type}", json=attack, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 403, response.text
    for job_type, params in (("hello_world", {"n": 1}), ("fail_test", {}), ("phases_test", {})):
        response = api.post(f"/api/jobs/submit/{job_type}", json=params, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 403, response.text

    assert served(api, database_url, storage, release["cog"]) == before
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (1,)


@pytest.mark.parametrize(
    ("job_type", "field", "value"),
    [
        ("process_raster", "output_prefix", "cogs/floods/jakarta/ord1-r1"),
        ("process_raster_collection", "output_prefix", "cogs/floods/jakarta/ord1-r1"),
        ("process_vector", "target_schema", "geo"),
        ("process_vector", "table_name", "floods_jakarta_v1"),
    ],
)
def test_job_parameters_never_name_output_locations(
    api: httpx.Client, keys: dict[Role, str], database_url: str, job_type: str, field: str, value: str
) -> None:
    source = {"paths": ["a.tif", "b.tif"]} if job_type == "process_raster_collection" else {"path": "a.gpkg"}
    params = job_params({"release_id": "0" * 32}, **source, **{field: value})
    response = api.post(f"/api/jobs/submit/{job_type}", json=params, headers=bearer(keys[Role.admin]))

    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (0,)


@pytest.mark.parametrize("same_release", [False, True], ids=["other-release", "published-release"])
def test_a_job_aimed_at_a_published_release_fails_and_changes_nothing(
    platform_api: httpx.Client,
    keys: dict[Role, str],
    database_url: str,
    storage: Storage,
    tmp_path: Path,
    same_release: bool,
) -> None:
    """Even an admin's job whose release fields point at a published release's outputs (its own
    release id, or another) writes nothing there: outputs of a published release never change."""
    api = platform_api
    release = publish_raster(api, keys, tmp_path)
    before = served(api, database_url, storage, release["cog"])
    forged = release if same_release else {"release_id": hashlib.sha256(b"evil").hexdigest()[:32]}
    params = job_params(forged, path=attacker_file(api, keys, tmp_path))
    response = api.post("/api/jobs/submit/process_raster", json=params, headers=bearer(keys[Role.admin]))
    assert response.status_code == 202, response.text

    job = wait_for_job(database_url, response.json()["job_id"], timeout=60)
    assert job["status"] == "failed" and job["error"]["code"] == "CONFLICT", job["error"]
    assert served(api, database_url, storage, release["cog"]) == before


def test_a_cog_row_of_another_release_is_never_replaced(database_url: str) -> None:
    row = {
        "container": "silver",
        "path": "cogs/floods/jakarta/ord1-r1/dem.tif",
        "job_id": "j1",
        "release_id": "a" * 32,
        "dataset_id": "floods",
        "resource_id": "jakarta",
        "collection_id": "floods",
        "part": "",
        "source_container": "bronze",
        "source_path": "relief/dem.tif",
        "kind": "dem",
        "tier": "analysis",
        "rewritten": True,
        "width": 1,
        "height": 1,
        "band_count": 1,
        "dtype": "float32",
        "nodata": None,
        "crs": "EPSG:4326",
        "epsg": 4326,
        "transform": [1.0, 0.0, 0.0, 0.0, -1.0, 0.0],
        "resolution": [1.0, 1.0],
        "bbox": [0.0, -1.0, 1.0, 0.0],
        "bbox_4326": [0.0, -1.0, 1.0, 0.0],
        "footprint": {"type": "Polygon", "coordinates": []},
        "overviews": [],
        "block_size": [512, 512],
        "compression": "deflate",
        "resampling": "average",
        "bands": [],
        "statistics": [],
        "rescale": [],
        "colormap": None,
        "thumbnail_path": None,
        "size_bytes": 1,
        "sha256": "original",
        "acquired_at": None,
    }
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        metadata.store(conn, row)
        metadata.store(conn, {**row, "sha256": "retried"})  # the same release again: idempotent
        with pytest.raises(Conflict, match="never overwrites another release's outputs"):
            metadata.store(conn, {**row, "release_id": "b" * 32, "job_id": "j2", "sha256": "evil"})
        kept = conn.execute("SELECT release_id, job_id, sha256 FROM app.cog_metadata").fetchall()
    assert kept == [{"release_id": "a" * 32, "job_id": "j1", "sha256": "retried"}]


def test_a_vector_job_cannot_take_the_table_of_another_release(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api = platform_api
    upload(api, keys[Role.submitter], write(tmp_path / "zones.gpkg", polygons(5)), "floods/zones.gpkg")
    submitted = submit(api, keys[Role.submitter], "floods/zones.gpkg")
    assert wait_done(api, keys[Role.submitter], submitted.json()["request_id"])["job"]["status"] == (
        "awaiting_approval"
    )
    upload(api, keys[Role.submitter], write(tmp_path / "evil.gpkg", polygons(9)), "evil/zones.gpkg")
    params = job_params({"release_id": "e" * 32}, path="evil/zones.gpkg")
    response = api.post("/api/jobs/submit/process_vector", json=params, headers=bearer(keys[Role.admin]))
    assert response.status_code == 202, response.text

    job = wait_for_job(database_url, response.json()["job_id"], timeout=60)
    assert job["status"] == "failed" and job["error"]["code"] == "CONFLICT", job["error"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM geo_draft.floods_jakarta_ord1").fetchone() == (5,)


@pytest.mark.parametrize("container", ["silver", "gold"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "submit"])
def test_the_platform_reads_sources_only_from_input_containers(
    platform_api: httpx.Client,
    keys: dict[Role, str],
    database_url: str,
    storage: Storage,
    tmp_path: Path,
    container: str,
    dry_run: bool,
) -> None:
    """A restricted COG in silver cannot be submitted again as a new (public) release."""
    api = platform_api
    release = publish_raster(api, keys, tmp_path, access_level="restricted")
    body = {
        "dataset_id": "copy",
        "resource_id": "of-restricted",
        "container_name": container,
        "file_name": release["cog"],
        "access_level": "public",
    }
    response = api.post(
        "/api/platform/submit", params={"dry_run": dry_run}, json=body, headers=bearer(keys[Role.submitter])
    )

    assert response.status_code == 400, response.text
    assert repr(container) in response.json()["message"] and "bronze" in response.json()["remediation"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.asset_releases").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (1,)


@pytest.mark.parametrize("job_type", PLATFORM_TYPES)
def test_direct_jobs_read_sources_only_from_input_containers(
    api: httpx.Client, keys: dict[Role, str], database_url: str, job_type: str
) -> None:
    source = {"paths": ["a.tif", "b.tif"]} if job_type == "process_raster_collection" else {"path": "a.tif"}
    params = job_params({"release_id": "0" * 32}, **source, container="silver")
    response = api.post(f"/api/jobs/submit/{job_type}", json=params, headers=bearer(keys[Role.admin]))

    assert response.status_code == 400, response.text
    assert "container" in response.json()["message"] and "'silver'" in response.json()["message"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (0,)


def test_silver_cannot_be_declared_an_input_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRACE_INPUT_CONTAINERS", "bronze, uploads")
    assert ProcessingSettings().input_containers == ("bronze", "uploads")
    monkeypatch.setenv("TERRACE_INPUT_CONTAINERS", "bronze,silver")
    with pytest.raises(ValidationError, match="silver holds Terrace's outputs"):
        ProcessingSettings()
