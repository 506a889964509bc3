"""Who sees which release: one rule for the Platform and Jobs APIs, the web UI and draft previews.

Readers see only approved, served releases they may see; reviewers also drafts at levels they may
see (restricted ones only when granted); admins everything; a hidden release answers as a missing
one. Draft COGs are previewed by release id, never by a caller's path (findings 6 and 7).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import morecantile
import pytest

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.integration.raster import files

PREVIEW = "preview.png"


def draft(
    api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, **extra: Any
) -> dict[str, Any]:
    """A processed draft submitted by the submitter; its submit response."""
    upload(api, keys[Role.submitter], file, f"sec/{file.name}")
    submitted = submit(api, keys[Role.submitter], f"sec/{file.name}", resource_id=resource, **extra)
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    return dict(submitted.json())


def tile_at(lon: float, lat: float, zoom: int) -> dict[str, int]:
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
    return {"z": tile.z, "x": tile.x, "y": tile.y}


def ui(api: httpx.Client, key: str) -> httpx.Client:
    """A browser-like client signed in to the web UI with `key`."""
    client = httpx.Client(base_url=api.base_url, timeout=30)
    form = {"key": key, "next": "/interface/"}
    token = re.search(r'name="csrf" value="([^"]*)"', client.get("/interface/login").text)
    if token:
        form["csrf"] = token.group(1)
    assert client.post("/interface/login", data=form).status_code == 303
    return client


def test_readers_and_ungranted_reviewers_see_nothing_of_a_restricted_draft(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    secret = draft(api, keys, write_points(tmp_path / "secret.gpkg", 12), "secret", access_level="restricted")
    release, job = secret["release_id"], secret["job_id"]
    missing = api.get("/api/platform/status/nope", headers=bearer(keys[Role.reader]))

    for role in (Role.reader, Role.reviewer):
        who = bearer(keys[role])
        for path in (
            f"/api/platform/status/{release}",
            f"/api/platform/status/{secret['request_id']}",
            "/api/platform/catalog/floods/secret",
            "/api/platform/catalog/floods/secret/drafts",
            f"/api/jobs/{job}",
            f"/api/jobs/{job}/events",
            f"/api/jobs/{job}/tasks",
            f"/api/jobs/{job}/repair-report.csv",
        ):
            hidden = api.get(path, headers=who)
            assert hidden.status_code == 404 == missing.status_code, (role, path, hidden.text)
            assert "secret" not in hidden.text.replace(release, "") or path.startswith(
                "/api/platform/catalog"
            )
        approvals = api.get("/api/platform/approvals", headers=who).json()
        assert release not in {r["release_id"] for r in approvals}
        assert job not in {j["job_id"] for j in api.get("/api/jobs", headers=who).json()}

    acted = approve(api, keys[Role.reviewer], release)
    assert acted.status_code == 404 and acted.json()["code"] == missing.json()["code"]
    admin = bearer(keys[Role.admin])
    shown = api.get(f"/api/platform/status/{release}", headers=admin)
    assert shown.status_code == 200 and shown.json()["approval"]["state"] == "pending_review"
    assert release in {r["release_id"] for r in api.get("/api/platform/approvals", headers=admin).json()}
    assert api.get(f"/api/jobs/{job}/events", headers=admin).status_code == 200
    # The submitter follows its own submission.
    assert api.get(f"/api/platform/status/{release}", headers=bearer(keys[Role.submitter])).status_code == 200


def test_the_review_page_answers_only_to_reviewers_who_may_see_the_draft(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    secret = draft(api, keys, write_points(tmp_path / "secret.gpkg", 12), "secret", access_level="restricted")
    granted = draft(
        api,
        keys,
        write_points(tmp_path / "shared.gpkg", 12),
        "shared",
        access_level="restricted",
        granted_roles=["reviewer"],
    )
    page = f"/interface/review/{secret['release_id']}"

    reader = ui(api, keys[Role.reader])
    refused = reader.get(page)
    assert refused.status_code == 403 and "depth" not in refused.text
    assert secret["release_id"] not in reader.get("/interface/review").text
    assert reader.get(f"/interface/jobs/{secret['job_id']}").status_code == 404
    assert reader.get("/interface/assets/floods/secret").status_code == 404

    reviewer = ui(api, keys[Role.reviewer])
    hidden = reviewer.get(page)
    assert hidden.status_code == 404 and "depth" not in hidden.text
    assert reviewer.get(f"{page}/features.geojson").status_code == 404
    assert secret["release_id"] not in reviewer.get("/interface/review").text
    assert reviewer.get(f"/interface/review/{granted['release_id']}").status_code == 200
    assert "depth" in reviewer.get(f"/interface/review/{granted['release_id']}").text

    admin = ui(api, keys[Role.admin])
    shown = admin.get(page)
    assert shown.status_code == 200 and "depth" in shown.text


@pytest.fixture
def raster_draft(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> dict[str, Any]:
    return draft(
        platform_api, keys, files.rgb(tmp_path / "scene.tif", size=300), "scene", access_level="public"
    )


def test_draft_cogs_are_previewed_by_release_id_only_while_draft(
    platform_api: httpx.Client, keys: dict[Role, str], raster_draft: dict[str, Any]
) -> None:
    api, reviewer = platform_api, bearer(keys[Role.reviewer])
    release = raster_draft["release_id"]
    (service,) = api.get(f"/api/platform/status/{release}", headers=reviewer).json()["services"]
    assert service["preview"] == f"/tiles/drafts/releases/{release}/cogs/0/preview"
    cog = f"/tiles/drafts/releases/{release}/cogs/0"

    assert api.get(f"{cog}/{PREVIEW}").status_code == 401
    assert api.get(f"{cog}/{PREVIEW}", headers=bearer(keys[Role.submitter])).status_code == 403
    preview = api.get(f"{service['preview']}.png", headers=reviewer)
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    tilejson = api.get(service["tilejson"], headers=reviewer).json()
    lon, lat, zoom = tilejson["center"]
    tile = api.get(tilejson["tiles"][0].format(**tile_at(lon, lat, zoom)), headers=reviewer)
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    assert api.get(f"/tiles/drafts/releases/{release}/cogs/1/{PREVIEW}", headers=reviewer).status_code == 404
    # No route takes a path any more: a reviewer cannot name a served or foreign object.
    by_path = api.get("/tiles/drafts/cog/preview", params={"path": service["cog"]}, headers=reviewer)
    assert by_path.status_code == 404

    assert approve(api, keys[Role.reviewer], release).status_code == 200
    assert api.get(f"{cog}/{PREVIEW}", headers=reviewer).status_code == 404
    assert api.get(f"{cog}/{PREVIEW}", headers=bearer(keys[Role.admin])).status_code == 404


def test_a_restricted_draft_cog_is_previewed_only_by_those_granted(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    secret = draft(
        api, keys, files.rgb(tmp_path / "secret.tif", size=300), "vault", access_level="restricted"
    )
    cog = f"/tiles/drafts/releases/{secret['release_id']}/cogs/0/{PREVIEW}"
    assert api.get(cog, headers=bearer(keys[Role.reviewer])).status_code == 404
    assert api.get(cog, headers=bearer(keys[Role.admin])).status_code == 200


def test_draft_features_follow_the_serving_rule_for_reviewers(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    draft(api, keys, write_points(tmp_path / "open.gpkg", 5), "open", access_level="ouo")
    draft(api, keys, write_points(tmp_path / "closed.gpkg", 5), "closed", access_level="restricted")
    granted = draft(
        api,
        keys,
        write_points(tmp_path / "shared.gpkg", 5),
        "shared",
        access_level="restricted",
        granted_roles=["reviewer"],
    )
    assert granted["release_id"]

    def listed(role: Role) -> set[str]:
        answer = api.get("/features/drafts/collections", headers=bearer(keys[role]))
        assert answer.status_code == 200, answer.text
        return {c["id"] for c in answer.json()["collections"]}

    assert listed(Role.reviewer) == {"floods_open_ord1", "floods_shared_ord1"}
    assert listed(Role.admin) == {"floods_open_ord1", "floods_closed_ord1", "floods_shared_ord1"}
    hidden = api.get(
        "/features/drafts/collections/floods_closed_ord1/items", headers=bearer(keys[Role.reviewer])
    )
    assert hidden.status_code == 404
    assert api.get("/features/drafts/collections", headers=bearer(keys[Role.reader])).status_code == 403
