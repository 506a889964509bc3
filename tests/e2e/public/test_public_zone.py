"""Clearing a release public puts it in the public zone within seconds; ouo, revoke and unpublish
take it out; restricted releases never go; the public zone is read-only."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.auth import Role
from terrace.public.export import Holding, withdraw
from terrace.public.holdings import HeldItem, holdings
from terrace.public.target import PUBLIC_CONTAINER, PublicTarget
from tests.conftest import STORAGE_BACKENDS, bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.integration.raster import files


def until(check: Callable[[], bool], timeout: float = 30) -> None:
    """Poll until `check` holds: exports run as jobs on the worker."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the public zone did not follow within the timeout")
        time.sleep(0.2)


def processed(
    api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, access: str = "public", **extra: Any
) -> str:
    upload(api, keys[Role.submitter], file, f"in/{file.name}")
    submitted = submit(
        api, keys[Role.submitter], f"in/{file.name}", resource_id=resource, access_level=access, **extra
    )
    assert submitted.status_code == 202, submitted.text
    assert (
        wait_done(api, keys[Role.submitter], submitted.json()["request_id"])["job"]["status"]
        == "awaiting_approval"
    )
    return str(submitted.json()["release_id"])


def clear(api: httpx.Client, key: str, release_id: str, state: str, **extra: Any) -> httpx.Response:
    body = {"release_id": release_id, "clearance_state": state, **extra}
    return api.post("/api/platform/clearance", json=body, headers=bearer(key))


def status_of(api: httpx.Client, key: str, release_id: str) -> dict[str, Any]:
    return api.get(f"/api/platform/status/{release_id}", headers=bearer(key)).json()


def features(public_api: httpx.Client, collection: str) -> int:
    return public_api.get(f"/features/collections/{collection}/items", params={"limit": 1}).status_code


def test_a_vector_release_follows_its_clearance_into_and_out_of_the_public_zone(
    platform_api: httpx.Client,
    public_api: httpx.Client,
    keys: dict[Role, str],
    public_target: PublicTarget,
    public_reader_url: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    api, reviewer = platform_api, keys[Role.reviewer]
    release = processed(api, keys, write_points(tmp_path / "points.gpkg", 40), "jakarta", access="ouo")
    internal = processed(api, keys, write_points(tmp_path / "other.gpkg", 5), "bandung")
    assert clear(api, reviewer, release, "public").status_code == 409  # not approved yet
    assert approve(api, reviewer, release, clearance_state="public").status_code == 200
    assert approve(api, reviewer, internal, clearance_state="ouo").status_code == 200

    until(lambda: features(public_api, "floods_jakarta_v1") == 200)
    page = public_api.get("/features/collections/floods_jakarta_latest/items", params={"limit": 100}).json()
    assert page["numberMatched"] == 40 and len(page["features"]) == 40
    listed = [c["id"] for c in public_api.get("/features/collections").json()["collections"]]
    assert listed == ["floods_jakarta_latest", "floods_jakarta_v1"]  # the ouo-cleared release is not there
    tile = public_api.get("/features/collections/floods_jakarta_v1/tiles/WebMercatorQuad/10/815/529")
    assert tile.status_code == 200 and tile.content
    until(
        lambda: (
            (status_of(api, reviewer, release)["release"]["public_export"] or {}).get("state") == "exported"
        )
    )
    export = status_of(api, reviewer, release)["release"]["public_export"]
    assert (
        export["tables"] == ["floods_jakarta_v1"] and export["at"] and public_target.name == export["target"]
    )
    assert "@" not in export["target"]  # no credentials in the status
    assert clear(api, reviewer, release, "public").status_code == 200  # exported again: replaced, not doubled
    until(lambda: status_of(api, reviewer, release)["release"]["public_export"]["job_id"] != export["job_id"])
    until(lambda: status_of(api, reviewer, release)["release"]["public_export"]["state"] == "exported")
    assert public_api.get("/features/collections/floods_jakarta_v1/items").json()["numberMatched"] == 40

    # The reader role of the public zone reads, and writes nothing.
    with psycopg.connect(public_reader_url) as conn:
        assert conn.execute("SELECT count(*) FROM geo.floods_jakarta_v1").fetchone() == (40,)
    for statement in (
        "INSERT INTO geo.floods_jakarta_v1 (depth) VALUES (1)",
        "DELETE FROM geo.table_catalog",
        "CREATE TABLE geo.planted (id int)",
        'SELECT pgstac.create_collection(\'{"id": "planted"}\'::jsonb)',
    ):
        with psycopg.connect(public_reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)

    downgraded = clear(api, reviewer, release, "ouo", notes="not for the public after all")
    assert downgraded.status_code == 200 and downgraded.json()["clearance_state"] == "ouo"
    until(lambda: features(public_api, "floods_jakarta_v1") == 404)
    assert features(public_api, "floods_jakarta_latest") == 404
    assert [t.name for t in holdings(public_target.database_url).tables] == []
    audit = api.get("/api/platform/catalog/floods/jakarta/v1", headers=bearer(reviewer)).json()
    assert audit["clearance_state"] == "ouo"

    assert clear(api, reviewer, release, "public").status_code == 200  # a second export, after a withdrawal
    until(lambda: features(public_api, "floods_jakarta_v1") == 200)
    assert {t.name: t.release_id for t in holdings(public_target.database_url).tables} == {
        "floods_jakarta_latest": release,
        "floods_jakarta_v1": release,
    }
    revoked = api.post(
        "/api/platform/revoke", json={"release_id": release, "reason": "wrong"}, headers=bearer(reviewer)
    )
    assert revoked.status_code == 200, revoked.text
    until(lambda: features(public_api, "floods_jakarta_v1") == 404)
    until(lambda: status_of(api, reviewer, release)["release"]["public_export"]["state"] == "withdrawn")
    with psycopg.connect(public_target.database_url, row_factory=dict_row) as target:
        with psycopg.connect(database_url, row_factory=dict_row) as source:
            again = withdraw(source, target, public_target, release)  # withdrawing nothing is fine
    assert again == Holding()


@STORAGE_BACKENDS
def test_a_raster_release_is_exported_with_its_cog_in_the_public_container(
    platform_api: httpx.Client,
    public_api: httpx.Client,
    keys: dict[Role, str],
    public_target: PublicTarget,
    tmp_path: Path,
) -> None:
    api, reviewer = platform_api, keys[Role.reviewer]
    release = processed(api, keys, files.rgb(tmp_path / "jakarta.tif", size=300), "jakarta")
    assert approve(api, reviewer, release, clearance_state="public").status_code == 200
    item_url = "/stac/collections/floods/items/floods-jakarta-v1"
    until(lambda: public_api.get(item_url).status_code == 200)

    item = public_api.get(item_url).json()
    assert item["properties"]["terrace:access_level"] == "public"
    assert item["assets"]["data"]["href"] == f"{public_api.base_url}{item_url}/assets/data"
    with psycopg.connect(public_target.database_url) as conn:
        stored = conn.execute(
            "SELECT pgstac.get_item('floods-jakarta-v1', 'floods') -> 'assets' -> 'data' ->> 'href'"
        ).fetchone()[0]
    assert stored.startswith(public_target.href(""))  # the public container, not silver
    path = stored.removeprefix(public_target.href(""))
    cog = public_api.get(f"{item_url}/assets/data")
    assert cog.status_code == 200 and cog.content == public_target.storage.get(PUBLIC_CONTAINER, path)
    tilejson = public_api.get(
        f"/tiles{item_url.removeprefix('/stac')}/WebMercatorQuad/tilejson.json", params={"assets": "data"}
    )
    assert tilejson.status_code == 200, tilejson.text
    preview = public_api.get(f"/tiles{item_url.removeprefix('/stac')}/preview.png", params={"assets": "data"})
    assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")
    assert public_api.get("/stac/search").json()["features"][0]["id"] == "floods-jakarta-v1"

    held = holdings(public_target.database_url)
    assert held.stac_items == [HeldItem("floods", "floods-jakarta-v1", release)] and held.tables == []

    body = {"release_id": release, "dry_run": False, "force_approved": True}
    assert api.post("/api/platform/unpublish", json=body, headers=bearer(keys[Role.admin])).status_code == 200
    until(lambda: public_api.get(item_url).status_code == 404)
    assert public_api.get("/stac/collections/floods").status_code == 404  # emptied, so gone
    until(lambda: not public_target.storage.exists(PUBLIC_CONTAINER, path))


def test_clearance_is_for_reviewers_and_never_makes_restricted_public(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, reviewer = platform_api, keys[Role.reviewer]
    restricted = processed(
        api,
        keys,
        write_points(tmp_path / "secret.gpkg", 3),
        "secret",
        access="restricted",
        granted_roles=["reviewer"],
    )
    refused = approve(api, reviewer, restricted, clearance_state="public")
    assert refused.status_code == 409 and "restricted" in refused.json()["message"]
    assert approve(api, reviewer, restricted, clearance_state="ouo").status_code == 200
    assert clear(api, reviewer, restricted, "public").status_code == 409
    assert clear(api, keys[Role.submitter], restricted, "ouo").status_code == 403
    assert clear(api, reviewer, restricted, "uncleared").status_code == 400
    assert clear(api, reviewer, restricted, "secret").status_code == 400
    release = api.get("/api/platform/catalog/floods/secret/v1", headers=bearer(reviewer)).json()
    assert release["clearance_state"] == "ouo" and release["public_export"] is None
