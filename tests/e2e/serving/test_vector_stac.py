"""Vector releases in the STAC API: an item per served table at approval, gone at revoke and
unpublish, its links resolving to the OGC API – Features, hidden from who may not see it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from terrace.auth import Role
from terrace.stac.tables import FEATURES_COLLECTION_REL, FEATURES_ITEMS_REL
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points

BBOX = [106.6, -6.4, 107.0, -6.0]  # write_points scatters its points in 106.7..106.9, -6.3..-6.1


def publish_vector(api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, **extra: Any) -> str:
    upload(api, keys[Role.submitter], file, f"floods/{file.name}")
    submitted = submit(api, keys[Role.submitter], f"floods/{file.name}", resource_id=resource, **extra)
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    approved = approve(api, keys[Role.reviewer], submitted.json()["release_id"])
    assert approved.status_code == 200, approved.text
    return str(submitted.json()["release_id"])


def search(api: httpx.Client, headers: dict[str, str] | None = None) -> dict[str, Any]:
    found = api.get(
        "/stac/search", params={"collections": "floods", "bbox": ",".join(map(str, BBOX))}, headers=headers
    )
    assert found.status_code == 200, found.text
    return {item["id"]: item for item in found.json()["features"]}


def link(item: dict[str, Any], rel: str) -> str:
    (href,) = [entry["href"] for entry in item["links"] if entry["rel"] == rel]
    return href


def test_an_approved_vector_release_is_a_stac_item_whose_links_serve_its_features(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    release = publish_vector(api, keys, write_points(tmp_path / "points.gpkg", 40), "jakarta")

    found = search(api)
    assert list(found) == ["floods-jakarta-v1"]
    item = api.get("/stac/collections/floods/items/floods-jakarta-v1").json()
    assert item["id"] == "floods-jakarta-v1" and item["collection"] == "floods"
    west, south, east, north = item["bbox"]
    assert 106.7 <= west < east <= 106.9 and -6.3 <= south < north <= -6.1
    assert item["geometry"]["type"] == "Polygon"
    props = item["properties"]
    assert props["table:row_count"] == 40
    columns = {column["name"]: column["type"] for column in props["table:columns"]}
    assert columns["depth"] == "double precision" and columns["geom"].startswith("geometry(MultiPoint")
    assert props["terrace:access_level"] == "public" and props["app:version_id"] == "v1"
    assert any("table" in uri for uri in item["stac_extensions"])

    status = api.get(f"/api/platform/status/{release}", headers=bearer(keys[Role.reader])).json()
    (service,) = status["services"]
    assert service["stac_item"] == "/stac/collections/floods/items/floods-jakarta-v1"

    collection = api.get(link(item, FEATURES_COLLECTION_REL))
    assert collection.status_code == 200 and collection.json()["id"] == "floods_jakarta_v1"
    features = api.get(link(item, FEATURES_ITEMS_REL), params={"limit": 100})
    assert features.status_code == 200 and features.json()["numberMatched"] == 40

    revoked = api.post(
        "/api/platform/revoke",
        json={"release_id": release, "reason": "wrong"},
        headers=bearer(keys[Role.reviewer]),
    )
    assert revoked.status_code == 200, revoked.text
    assert search(api, bearer(keys[Role.admin])) == {}
    assert (
        api.get(
            "/stac/collections/floods/items/floods-jakarta-v1", headers=bearer(keys[Role.admin])
        ).status_code
        == 404
    )


def test_a_restricted_vector_item_is_hidden_and_unpublish_takes_it_out(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    publish_vector(api, keys, write_points(tmp_path / "open.gpkg", 10), "open")
    secret = publish_vector(
        api,
        keys,
        write_points(tmp_path / "secret.gpkg", 12),
        "secret",
        access_level="restricted",
        granted_roles=["reviewer"],
    )

    assert list(search(api)) == ["floods-open-v1"]
    assert list(search(api, bearer(keys[Role.reader]))) == ["floods-open-v1"]
    assert sorted(search(api, bearer(keys[Role.reviewer]))) == ["floods-open-v1", "floods-secret-v1"]
    assert api.get("/stac/collections/floods/items/floods-secret-v1").status_code == 404
    granted = api.get("/stac/collections/floods/items/floods-secret-v1", headers=bearer(keys[Role.reviewer]))
    assert granted.status_code == 200 and granted.json()["properties"]["table:row_count"] == 12

    unpublished = api.post(
        "/api/platform/unpublish",
        json={"release_id": secret, "dry_run": False, "force_approved": True},
        headers=bearer(keys[Role.admin]),
    )
    assert unpublished.status_code == 200, unpublished.text
    assert unpublished.json()["stac_items"] == ["floods/floods-secret-v1"]
    assert list(search(api, bearer(keys[Role.admin]))) == ["floods-open-v1"]
