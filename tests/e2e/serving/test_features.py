"""OGC API – Features over approved vector releases, read by real clients, under the visibility rule."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyogrio
import pytest
from owslib.ogcapi.features import Features

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points


def publish(api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, access: str) -> str:
    """Upload, submit and approve `file`; returns the release id."""
    upload(api, keys[Role.submitter], file, f"floods/{file.name}")
    submitted = submit(
        api, keys[Role.submitter], f"floods/{file.name}", resource_id=resource, access_level=access
    )
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    return submitted.json()["release_id"]


def collection_ids(api: httpx.Client, headers: dict[str, str] | None = None) -> list[str]:
    response = api.get("/features/collections", headers=headers or {})
    assert response.status_code == 200, response.text
    return sorted(c["id"] for c in response.json()["collections"])


@pytest.fixture
def served(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> str:
    """A public 120-point release served as floods_jakarta_v1; returns its release id."""
    return publish(platform_api, keys, write_points(tmp_path / "points.gpkg", 120), "jakarta", "public")


def test_clients_read_a_served_collection_with_the_right_feature_count(
    platform_api: httpx.Client, served: str
) -> None:
    url = str(platform_api.base_url.join("/features"))
    client = Features(url)
    assert "floods_jakarta_v1" in [c["id"] for c in client.collections()["collections"]]
    items = client.collection_items("floods_jakarta_v1", limit=1000)
    assert items["numberMatched"] == 120 and len(items["features"]) == 120

    meta, table = pyogrio.read_arrow(f"OAPIF:{url}", layer="floods_jakarta_latest")
    assert table.num_rows == 120 and meta["geometry_type"] in ("MultiPoint", "Point")


def test_bbox_cql2_and_vector_tiles(platform_api: httpx.Client, served: str) -> None:
    items = "/features/collections/floods_jakarta_v1/items"
    everything = platform_api.get(items, params={"limit": 1000}).json()["numberMatched"]
    west = platform_api.get(items, params={"bbox": "106.7,-6.3,106.8,-6.1", "limit": 1000}).json()
    assert 0 < west["numberMatched"] < everything
    deep = platform_api.get(items, params={"filter": "depth > 1", "filter-lang": "cql2-text"}).json()
    assert 0 < deep["numberMatched"] < everything
    assert all(f["properties"]["depth"] > 1 for f in deep["features"])
    # The tile of zoom 10 around Jakarta (106.8, -6.2).
    tile = platform_api.get("/features/collections/floods_jakarta_v1/tiles/WebMercatorQuad/10/815/529")
    assert tile.status_code == 200 and tile.headers["content-type"].startswith(
        "application/vnd.mapbox-vector-tile"
    )
    assert len(tile.content) > 100


def test_ouo_needs_a_key_drafts_need_a_reviewer_and_revoke_hides_at_once(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    release = publish(api, keys, write_points(tmp_path / "ouo.gpkg", 30), "hidden", "ouo")
    assert "floods_hidden_v1" not in collection_ids(api)
    assert api.get("/features/collections/floods_hidden_v1/items").status_code == 404
    assert "floods_hidden_v1" in collection_ids(api, bearer(keys[Role.reader]))

    upload(api, keys[Role.submitter], write_points(tmp_path / "draft.gpkg", 10), "floods/draft.gpkg")
    draft = submit(api, keys[Role.submitter], "floods/draft.gpkg", resource_id="draft")
    wait_done(api, keys[Role.submitter], draft.json()["request_id"])
    for headers in ({}, bearer(keys[Role.reader]), bearer(keys[Role.admin])):
        assert not [c for c in collection_ids(api, headers) if c.startswith("floods_draft")]
    assert api.get("/features/drafts/collections").status_code == 401
    assert api.get("/features/drafts/collections", headers=bearer(keys[Role.reader])).status_code == 403
    previews = collection_ids_of(api, "/features/drafts/collections", bearer(keys[Role.reviewer]))
    assert "floods_draft_ord1" in previews

    body = {"release_id": release, "reason": "wrong extent"}
    assert api.post("/api/platform/revoke", json=body, headers=bearer(keys[Role.reviewer])).status_code == 200
    gone = api.get("/features/collections/floods_hidden_v1/items", headers=bearer(keys[Role.reader]))
    assert gone.status_code == 404


def collection_ids_of(api: httpx.Client, path: str, headers: dict[str, str]) -> list[str]:
    response = api.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["collections"]]


@pytest.mark.parametrize("api_path", ["/features", "/stac", "/tiles"])
def test_every_mounted_api_documents_itself_and_lists_its_conformance(
    api: httpx.Client, api_path: str
) -> None:
    openapi = api.get(f"{api_path}/openapi.json")
    assert openapi.status_code == 200 and openapi.json()["paths"], openapi.text[:200]
    assert api.get(f"{api_path}/docs").status_code == 200
    conformance = api.get(f"{api_path}/conformance")
    assert conformance.status_code == 200 and conformance.json()["conformsTo"]


def test_a_restricted_release_is_seen_by_the_roles_granted_it(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    upload(api, submitter, write_points(tmp_path / "secret.gpkg", 20), "floods/secret.gpkg")
    wrong = submit(api, submitter, "floods/secret.gpkg", resource_id="secret", granted_roles=["reviewer"])
    assert wrong.status_code == 400 and "restricted" in wrong.json()["remediation"]
    unknown = submit(api, submitter, "floods/secret.gpkg", access_level="restricted", granted_roles=["boss"])
    assert unknown.status_code == 400 and "reviewer" in unknown.json()["remediation"]

    body = {"resource_id": "secret", "access_level": "restricted", "granted_roles": ["reviewer"]}
    submitted = submit(api, submitter, "floods/secret.gpkg", **body)
    wait_done(api, submitter, submitted.json()["request_id"])
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    assert "floods_secret_v1" not in collection_ids(api)
    assert "floods_secret_v1" not in collection_ids(api, bearer(keys[Role.reader]))
    assert {"floods_secret_v1", "floods_secret_latest"} <= set(
        collection_ids(api, bearer(keys[Role.reviewer]))
    )
    items = api.get("/features/collections/floods_secret_latest/items", headers=bearer(keys[Role.reviewer]))
    assert items.json()["numberMatched"] == 20
