"""No internals in payloads: errors carry no traceback or server path, STAC assets are served by the
platform's own route, and anonymous health shows only the overall status."""

from __future__ import annotations

from pathlib import Path

import httpx

from terrace.auth import Role
from terrace.errors import InvalidInput
from terrace.orchestration.failures import classify
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.integration.raster import files

ERROR_FIELDS = {"code", "category", "message", "remediation", "user_fixable", "task_id", "stage", "attempts"}


def test_a_failed_ingest_tells_its_cause_without_server_paths_or_traceback(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    api, submitter = platform_api, bearer(keys[Role.submitter])
    (tmp_path / "broken.gpkg").write_bytes(b"this is no GeoPackage" * 100)
    upload(api, keys[Role.submitter], tmp_path / "broken.gpkg", "sec/broken.gpkg")
    submitted = submit(api, keys[Role.submitter], "sec/broken.gpkg").json()
    status = wait_done(api, keys[Role.submitter], submitted["request_id"])
    assert status["job"]["status"] == "failed", status
    assert "broken.gpkg" in status["error"]["message"] and status["error"]["remediation"]

    job = submitted["job_id"]
    for key in (submitter, bearer(keys[Role.admin])):
        for path in (
            f"/api/platform/status/{submitted['request_id']}",
            f"/api/jobs/{job}",
            f"/api/jobs/{job}/events",
            f"/api/jobs/{job}/tasks",
        ):
            answer = api.get(path, headers=key)
            assert answer.status_code == 200, answer.text
            assert str(storage.local_root) not in answer.text and "file://" not in answer.text, path
            assert "Traceback" not in answer.text and '"trace"' not in answer.text, path
    assert set(api.get(f"/api/jobs/{job}", headers=submitter).json()["error"]) <= ERROR_FIELDS


def test_an_input_error_names_the_object_not_the_server_path(storage: Storage) -> None:
    assert storage.local_root is not None
    raised = InvalidInput(f"cannot read '{storage.local_root}/bronze/a/b.tif'", "Upload it again.")
    error = classify(raised, storage, "running a test task").error
    assert error["message"] == "cannot read 'bronze/a/b.tif'"
    assert set(error) == {"code", "category", "message", "remediation", "user_fixable"}


def test_stac_assets_are_served_by_the_platform_behind_the_visibility_rule(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    api = platform_api
    for access in ("public", "ouo"):
        image = files.rgb(tmp_path / f"{access}.tif", size=300)
        upload(api, keys[Role.submitter], image, f"imagery/{image.name}")
        body = {"resource_id": access, "access_level": access}
        submitted = submit(api, keys[Role.submitter], f"imagery/{image.name}", **body).json()
        done = wait_done(api, keys[Role.submitter], submitted["request_id"])
        assert done["job"]["status"] == "awaiting_approval", done
        assert approve(api, keys[Role.reviewer], submitted["release_id"]).status_code == 200

    reader = bearer(keys[Role.reader])
    for path in (
        "/stac/collections/floods/items/floods-public-v1",
        "/stac/collections/floods/items",
        "/stac/search?collections=floods",
        "/stac/collections/floods",
        "/stac/collections",
    ):
        answer = api.get(path, headers=reader)
        assert answer.status_code == 200, answer.text
        assert "file://" not in answer.text and str(storage.local_root) not in answer.text, path
    posted = api.post("/stac/search", json={"collections": ["floods"]}, headers=reader)
    assert posted.status_code == 200 and "file://" not in posted.text

    item = api.get("/stac/collections/floods/items/floods-public-v1").json()
    href = item["assets"]["data"]["href"]
    assert href == f"{api.base_url}/stac/collections/floods/items/floods-public-v1/assets/data"
    cog = api.get(href)
    assert cog.status_code == 200 and cog.content[:4] in (b"II*\x00", b"MM\x00*")
    assert api.get(href, headers={"Range": "bytes=0-15"}).status_code == 206
    thumbnail = api.get(item["assets"]["thumbnail"]["href"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/png"

    hidden = "/stac/collections/floods/items/floods-ouo-v1/assets/data"
    assert api.get(hidden).status_code == 404
    assert api.get(hidden, headers=reader).status_code == 200
    assert api.get("/stac/collections/floods/items/floods-public-v1/assets/nope").status_code == 404
    # pgSTAC keeps the internal href the tiles API reads the COG by.
    preview = api.get(
        "/tiles/collections/floods/items/floods-public-v1/preview.png", params={"assets": "data"}
    )
    assert preview.status_code == 200


def test_anonymous_health_shows_only_the_overall_status(api: httpx.Client, keys: dict[Role, str]) -> None:
    anonymous = api.get("/api/health")
    assert set(anonymous.json()) == {"status"}
    reader = api.get("/api/health", headers=bearer(keys[Role.reader]))
    assert set(reader.json()) == {"status"}
    admin = api.get("/api/health", headers=bearer(keys[Role.admin])).json()
    assert {"database", "schema", "storage", "workers", "queue"} <= set(admin["components"])
    assert api.get("/livez").json() == {"status": "ok"} and api.get("/readyz").json() == {"status": "ok"}
