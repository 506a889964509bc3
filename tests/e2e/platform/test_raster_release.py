"""A raster release as a user drives it: upload a GeoTIFF, submit, approve into pgSTAC, revoke, unpublish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pystac
import pytest
import rasterio
from psycopg.rows import dict_row
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import RasterExtension
from pystac.validation import validate_dict
from rasterio.transform import from_origin

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.integration.raster import files

CORE_ITEM_SCHEMA = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"


def stac_items(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute("SELECT id, collection FROM pgstac.items ORDER BY id").fetchall()


def stac_item(database_url: str, collection: str, item: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pgstac.get_item(%s, %s)", (item, collection)).fetchone()
    assert row is not None and row[0] is not None
    return row[0]


def cog_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM app.cog_metadata").fetchone()[0]  # type: ignore[index]


def silver(storage: Storage) -> list[str]:
    root = storage.local_path("silver", "x").parent  # type: ignore[union-attr]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def zero_size(folder: Path) -> Path:
    path = folder / "zero.tif"
    path.write_bytes(b"")
    return path


def int64(folder: Path) -> Path:
    return files.write(folder / "i64.tif", np.ones((1, 64, 64), dtype="int64"))


def reason(api: httpx.Client, key: str, action: str, release_id: str, **extra: Any) -> httpx.Response:
    body = {"release_id": release_id, "reason": "checked", **extra}
    return api.post(f"/api/platform/{action}", json=body, headers=bearer(key))


def test_a_geotiff_becomes_a_served_stac_item_at_approval_and_leaves_at_revoke(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage, tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    upload(api, submitter, files.rgb(tmp_path / "jakarta.tif", size=500), "imagery/jakarta.tif")
    submitted = submit(api, submitter, "imagery/jakarta.tif")
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, submitter, submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status

    outputs = status["outputs"]
    assert outputs["stac_items"] == ["floods-jakarta-draft"] and outputs["stac_published"] is None
    (cog,) = outputs["cogs"]
    with rasterio.open(storage.local_path("silver", cog["path"])) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.overviews(1) and ds.block_shapes[0] == (512, 512)
    assert stac_items(database_url) == []  # nothing in pgSTAC before approval
    (draft,) = status["services"]
    release = submitted.json()["release_id"]
    assert (
        draft["cog"] == cog["path"] and draft["preview"] == f"/tiles/drafts/releases/{release}/cogs/0/preview"
    )

    approved = approve(api, reviewer, submitted.json()["release_id"])
    assert approved.status_code == 200, approved.text
    content = stac_item(database_url, "floods", "floods-jakarta-v1")
    # The core STAC schema ships with pystac; extension schemas live online, out of reach here,
    # so the extensions are checked through pystac's typed accessors instead.
    assert validate_dict({**content, "stac_extensions": []}) == [CORE_ITEM_SCHEMA]
    item = pystac.Item.from_dict(content)
    assert item.properties["app:published"] is True and item.properties["app:approved_by"]
    assert item.properties["terrace:access_level"] == "public"
    assert ProjectionExtension.ext(item).code == "EPSG:4326"
    bands = RasterExtension.ext(item.assets["data"]).bands or []
    assert [b.data_type for b in bands] == ["uint8"] * 3
    status = api.get(
        f"/api/platform/status/{submitted.json()['request_id']}", headers=bearer(reviewer)
    ).json()
    assert status["services"][0]["tiles"].startswith("/tiles/collections/floods/items/floods-jakarta-v1/")

    revoked = reason(api, reviewer, "revoke", submitted.json()["release_id"])
    assert revoked.status_code == 200, revoked.text
    assert stac_items(database_url) == []
    written = silver(storage)
    assert written and all(p.startswith("cogs/floods/jakarta/") for p in written)

    body = {"release_id": submitted.json()["release_id"], "dry_run": False}
    removed = api.post("/api/platform/unpublish", json=body, headers=bearer(reviewer))
    assert removed.status_code == 200, removed.text
    assert silver(storage) == [] and cog_rows(database_url) == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (zero_size, "the file is empty"),
        (int64, "int64 cannot be served"),
    ],
)
def test_bad_rasters_fail_through_the_platform_and_leave_nothing(
    platform_api: httpx.Client,
    keys: dict[Role, str],
    database_url: str,
    storage: Storage,
    tmp_path: Path,
    make: Any,
    message: str,
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    source = make(tmp_path)
    if source.stat().st_size:
        upload(api, submitter, source, f"imagery/{source.name}")
    else:
        storage.put("bronze", f"imagery/{source.name}", b"")
    submitted = submit(api, submitter, f"imagery/{source.name}")
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, submitter, submitted.json()["request_id"])
    assert status["job"]["status"] == "failed"
    assert message in status["error"]["message"] and status["error"]["remediation"]
    assert silver(storage) == [] and cog_rows(database_url) == 0 and stac_items(database_url) == []


def test_vector_options_on_a_raster_are_refused_with_the_ones_that_apply(
    api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    upload(api, keys[Role.submitter], files.rgb(tmp_path / "a.tif", size=64), "imagery/a.tif")
    response = submit(api, keys[Role.submitter], "imagery/a.tif", processing_options={"layer": "roads"})
    assert response.status_code == 400
    assert "layer" in response.json()["message"] and "tier" in response.json()["remediation"]


def test_a_list_of_files_is_one_collection_release_and_collection_must_exist_is_enforced(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    names = []
    for i in range(2):
        origin = from_origin(500_000 + i * 7_680, 4_000_000, 30, 30)
        sheet = files.dem(tmp_path / f"sheet_{i}.tif", size=256, transform=origin)
        upload(api, submitter, sheet, f"relief/{sheet.name}")
        names.append(f"relief/{sheet.name}")

    missing = submit(
        api, submitter, names, processing_options={"collection_id": "dems", "collection_must_exist": True}
    )
    status = wait_done(api, submitter, missing.json()["request_id"])
    assert status["job"]["status"] == "failed" and "'dems' does not exist" in status["error"]["message"]

    submitted = submit(
        api, submitter, names, resource_id="sheets", processing_options={"collection_id": "dems"}
    )
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, submitter, submitted.json()["request_id"])
    assert status["release"]["data_type"] == "raster_collection", status
    assert approve(api, reviewer, submitted.json()["release_id"]).status_code == 200
    assert stac_items(database_url) == [
        {"id": "floods-sheets-v1-sheet_0", "collection": "dems"},
        {"id": "floods-sheets-v1-sheet_1", "collection": "dems"},
    ]
