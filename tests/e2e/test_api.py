"""The API shell over real HTTP: probes, health, auth, admin schema routes, uploads."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import bearer


def test_probes_and_openapi(api: httpx.Client) -> None:
    assert api.get("/livez").json() == {"status": "ok"}
    assert api.get("/readyz").status_code == 200
    spec = api.get("/openapi.json").json()
    assert "/api/storage/{container}/{path}" in spec["paths"]
    assert api.get("/docs").status_code == 200


def test_health_reports_every_component_to_admins(api: httpx.Client, keys: dict[Role, str]) -> None:
    report = api.get("/api/health", headers=bearer(keys[Role.admin])).json()
    components = report["components"]
    assert components["database"]["status"] == "ok"
    assert components["database"]["postgis"].startswith("3.")
    assert components["database"]["pgstac"] == "0.10.0"
    assert components["schema"] == {"status": "ok", "drift": []}
    assert components["storage"]["status"] == "ok"
    # No worker runs in this test: reported, and the overall status says so.
    assert components["workers"] == {"status": "warning", "seen": 0}
    assert components["queue"] == {"status": "ok", "queued": 0, "running": 0, "oldest_queued_seconds": 0.0}
    assert report["status"] == "warning"


def test_health_reports_a_broken_storage_folder(
    api: httpx.Client, storage: Storage, keys: dict[Role, str]
) -> None:
    root = storage.local_root
    assert root is not None
    for container in storage.containers:
        (root / container).rmdir()
    root.rmdir()
    root.write_text("a file where the storage folder should be")
    assert api.get("/api/health").json() == {"status": "error"}
    response = api.get("/api/health", headers=bearer(keys[Role.admin]))
    assert response.status_code == 503
    assert response.json()["components"]["storage"]["status"] == "error"


def test_upload_streams_into_bronze(api: httpx.Client, keys: dict[Role, str], storage: Storage) -> None:
    body = b"name,lat,lon\njakarta,-6.2,106.8\n"
    response = api.put(
        "/api/storage/bronze/floods/jakarta.csv", content=body, headers=bearer(keys[Role.submitter])
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"container": "bronze", "path": "floods/jakarta.csv", "size": len(body)}
    assert storage.get("bronze", "floods/jakarta.csv") == body


@pytest.mark.parametrize(
    "path", ["a/%2E%2E/%2E%2E/etc/passwd", "%2Fetc/passwd", "a//b", "a/%2E/b", "a%5Cb", "a%00b"]
)
def test_upload_rejects_paths_that_could_escape(api: httpx.Client, keys: dict[Role, str], path: str) -> None:
    response = api.put(f"/api/storage/bronze/{path}", content=b"x", headers=bearer(keys[Role.submitter]))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_INPUT"


def test_upload_refuses_silver_and_unknown_containers(api: httpx.Client, keys: dict[Role, str]) -> None:
    headers = bearer(keys[Role.admin])
    assert api.put("/api/storage/silver/x.tif", content=b"x", headers=headers).status_code == 403
    assert api.put("/api/storage/gold/x.tif", content=b"x", headers=headers).status_code == 403


def test_upload_over_the_limit_is_refused_and_leaves_nothing(
    api: httpx.Client, keys: dict[Role, str], storage: Storage
) -> None:
    too_big = b"x" * (1024 * 1024 + 1)
    headers = bearer(keys[Role.submitter])
    declared = api.put("/api/storage/bronze/big.bin", content=too_big, headers=headers)
    assert declared.status_code == 413
    streamed = api.put(
        "/api/storage/bronze/big.bin", content=iter([too_big[:600_000], too_big[600_000:]]), headers=headers
    )
    assert streamed.status_code == 413
    assert "limit" in streamed.json()["message"]
    assert not storage.exists("bronze", "big.bin")
    assert list(Path(storage.local_root, "bronze").rglob("*")) == []  # type: ignore[arg-type]


def test_writes_need_a_key_with_the_right_role(api: httpx.Client, keys: dict[Role, str]) -> None:
    anonymous = api.put("/api/storage/bronze/a.csv", content=b"x")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert (
        api.put("/api/storage/bronze/a.csv", content=b"x", headers=bearer("trc_nope_nope")).status_code == 401
    )
    assert (
        api.put("/api/storage/bronze/a.csv", content=b"x", headers=bearer(keys[Role.reader])).status_code
        == 403
    )
    for call in (api.get("/api/admin/db/drift"), api.post("/api/admin/db/ensure")):
        assert call.status_code == 401
    reviewer = bearer(keys[Role.reviewer])
    assert api.post("/api/admin/db/ensure", headers=reviewer).status_code == 403
    assert api.post("/api/admin/db/rebuild?confirm=yes", headers=reviewer).status_code == 403


def test_admin_schema_routes(api: httpx.Client, keys: dict[Role, str]) -> None:
    admin = bearer(keys[Role.admin])
    assert api.get("/api/admin/db/drift", headers=admin).json() == {"in_sync": True, "differences": []}
    # the test database comes from a template made without the default schedules
    first = api.post("/api/admin/db/ensure", headers=admin).json()
    assert first == {"actions": ["added schedule nightly-check-catalog"]}
    assert api.post("/api/admin/db/ensure", headers=admin).json() == {"actions": []}
    unconfirmed = api.post("/api/admin/db/rebuild", headers=admin)
    assert unconfirmed.status_code == 400
    assert "confirm=yes" in unconfirmed.json()["remediation"]


def test_a_revoked_key_stops_working(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    import psycopg

    from terrace.auth import revoke_key

    headers = bearer(keys[Role.admin])
    assert api.get("/api/admin/db/drift", headers=headers).status_code == 200
    key_id = keys[Role.admin].split("_")[1]
    with psycopg.connect(database_url) as conn:
        revoke_key(conn, key_id)
    assert api.get("/api/admin/db/drift", headers=headers).status_code == 401
