"""Attacks on the catalog consistency admin API: only admins may run a check, read the report or
repair, and a repair accepts only the finding kinds it knows. A refusal starts no job."""

from __future__ import annotations

import httpx
import psycopg

from terrace.auth import Role
from tests.conftest import bearer

ROUTES = (
    ("POST", "/api/admin/catalog/check", {}),
    ("GET", "/api/admin/catalog/report", None),
    ("POST", "/api/admin/catalog/repair", {"dry_run": False, "force_recreate": True}),
)


def jobs(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM app.jobs").fetchone()[0]  # type: ignore[index]


def test_non_admin_keys_are_refused(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    for role in (Role.reader, Role.submitter, Role.reviewer):
        for method, path, body in ROUTES:
            response = api.request(method, path, json=body, headers=bearer(keys[role]))
            assert response.status_code == 403, (role, path, response.text)
            assert "job_id" not in response.text and "findings" not in response.text
    assert jobs(database_url) == 0


def test_anonymous_and_forged_credentials_are_refused(api: httpx.Client, database_url: str) -> None:
    for method, path, body in ROUTES:
        assert api.request(method, path, json=body).status_code == 401
        assert api.request(method, path, json=body, headers=bearer("not-a-key")).status_code == 401
    assert jobs(database_url) == 0


BAD_REPAIRS = (
    {"kinds": ["orphan_table; DROP TABLE app.jobs"]},
    {"kinds": ["everything"]},
    {"kinds": "orphan_table"},
    {"dry_run": False, "kinds": ["orphan_blob", "../../etc/passwd"]},
    {"actor": "someone else"},  # the actor is the authenticated admin, never a body field
)


def test_repair_accepts_only_known_kinds(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    for body in BAD_REPAIRS:
        response = api.post("/api/admin/catalog/repair", json=body, headers=bearer(keys[Role.admin]))
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "INVALID_INPUT"
    assert jobs(database_url) == 0


def test_report_refuses_unknown_kinds_and_admins_get_the_routes(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    admin = bearer(keys[Role.admin])
    assert api.get("/api/admin/catalog/report?kind=bogus", headers=admin).status_code == 400
    assert api.get("/api/admin/catalog/report", headers=admin).status_code == 404  # no check ran yet
    assert api.post("/api/admin/catalog/check", json={"grace_seconds": -1}, headers=admin).status_code == 400
    started = api.post("/api/admin/catalog/check", headers=admin)
    assert started.status_code == 202 and jobs(database_url) == 1
