"""The interface's vector tiles (the Analytics map) and aggregate pages: a signed-in user gets a
served table's tiles exactly when `/features` would show it that table, a hidden table answers as
a missing one, names that are not served tables reach no SQL, and visitors not signed in get
nothing but the way to sign in."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve
from tests.e2e.platform.data import write_points
from tests.security.test_html import inline_code
from tests.security.test_sessions import csrf_of
from tests.security.test_visibility import draft, tile_at, ui

MVT = "application/vnd.mapbox-vector-tile"
HOSTILE = [
    'x"; DROP TABLE geo.table_catalog; --',
    "pg_authid",
    "table_catalog",
    "..%2F..%2Fapi%2Fhealth",
    "vault_secret_v1%00",
    "a" * 300,
]


def test_restricted_tiles_reach_only_those_granted_and_hostile_names_nothing(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api = platform_api
    secret = draft(
        api,
        keys,
        write_points(tmp_path / "secret.gpkg", 30),
        "vault",
        access_level="restricted",
        granted_roles=["reviewer"],
    )
    assert approve(api, keys[Role.admin], secret["release_id"]).status_code == 200
    table = "floods_vault_v1"
    admin_view = api.get(f"/features/collections/{table}", headers=bearer(keys[Role.admin]))
    assert admin_view.status_code == 200, admin_view.text
    at = tile_at(106.8, -6.2, 10)
    path = f"/interface/analytics/tiles/{table}/{at['z']}/{at['x']}/{at['y']}"

    with httpx.Client(base_url=api.base_url, timeout=30) as anonymous:
        refused = anonymous.get(path)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/interface/login")
        assert refused.headers.get("content-type", "") != MVT
    reader, reviewer = ui(api, keys[Role.reader]), ui(api, keys[Role.reviewer])
    hidden = reader.get(path)
    missing = reader.get(f"/interface/analytics/tiles/floods_nothing_v1/{at['z']}/{at['x']}/{at['y']}")
    assert hidden.status_code == missing.status_code == 404
    # Answered as a missing table: the same words, no tile, nothing of the table's contents.
    assert f"No served table &#39;{table}&#39;" in hidden.text and "No served table" in missing.text
    assert MVT not in hidden.headers["content-type"] and "depth" not in hidden.text
    shown = reviewer.get(path)
    assert shown.status_code == 200 and shown.headers["content-type"] == MVT and len(shown.content) > 0
    assert (
        shown.content
        == api.get(
            f"/features/collections/{table}/tiles/WebMercatorQuad/{at['z']}/{at['x']}/{at['y']}",
            headers=bearer(keys[Role.reviewer]),
        ).content
    ), "the same tile /features serves"
    assert "no-store" in shown.headers["cache-control"] or "private" in shown.headers["cache-control"]
    assert reviewer.get(f"/interface/analytics/tiles/{table}/40/0/0").status_code == 404
    assert reviewer.get(f"/interface/analytics/tiles/{table}/2/9/0").status_code == 404
    # The release is no aggregate, and a reader may not see it: no map page either way.
    assert reader.get(f"/interface/analytics/aggregates/{secret['release_id']}").status_code == 404
    assert reviewer.get(f"/interface/analytics/aggregates/{secret['release_id']}").status_code == 404

    admin = ui(api, keys[Role.admin])
    for name in HOSTILE:
        answer = admin.get(f"/interface/analytics/tiles/{name}/0/0/0")
        assert answer.status_code == 404, (name, answer.status_code)
        assert MVT not in answer.headers.get("content-type", "")
        assert api.get(f"/features/collections/{name}/items").status_code == 404, name
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM geo.table_catalog").fetchone()[0] >= 1
    for client in (reader, reviewer, admin):
        client.close()


def test_the_analytics_forms_need_the_sessions_csrf_token_and_the_submitter_role(
    api: httpx.Client, keys: dict[Role, str]
) -> None:
    grid = {"name": "forged", "resolutions": "3", "bbox": "0, 0, 1, 1"}
    admin = ui(api, keys[Role.admin])
    page = admin.get("/interface/analytics")
    assert page.status_code == 200 and inline_code(page.text) == []
    for path in ("/interface/analytics/grids", "/interface/analytics/zonal"):
        for token in ({}, {"csrf": ""}, {"csrf": "forged"}):
            assert admin.post(path, data={**grid, **token}).status_code == 403, (path, token)
    reader = ui(api, keys[Role.reader])
    token = csrf_of(reader.get("/interface/analytics"))
    refused = reader.post("/interface/analytics/grids", data={**grid, "csrf": token})
    assert refused.status_code == 403
    assert "grid-form" not in reader.get("/interface/analytics").text, "no form a reader may not use"
    listed = api.get("/api/analytics/h3/grids", headers=bearer(keys[Role.admin])).json()
    assert [g["name"] for g in listed] == [], "nothing was created"
    for client in (admin, reader):
        client.close()
