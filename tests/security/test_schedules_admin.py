"""The schedules admin API: admins only; a wrong cron, job type, parameters or name is a 400 that
says what to fix, and nothing is stored."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.orchestration.demo import with_demos
from terrace.pipelines import default_registry
from tests.conftest import bearer
from tests.security.test_sessions import sign_in

NIGHTLY = {"job_type": "hello_world", "parameters": {"n": 2}, "cron": "0 2 * * *", "enabled": True}


@pytest.fixture
def app_config(app_config: AppConfig) -> AppConfig:
    return replace(app_config, registry=with_demos(default_registry()))


def listed(api: httpx.Client, keys: dict[Role, str]) -> list[str]:
    response = api.get("/api/admin/schedules", headers=bearer(keys[Role.admin]))
    assert response.status_code == 200, response.text
    return [s["name"] for s in response.json()]


def test_only_admins_read_or_change_schedules(api: httpx.Client, keys: dict[Role, str]) -> None:
    assert (
        api.put("/api/admin/schedules/nightly", json=NIGHTLY, headers=bearer(keys[Role.admin])).status_code
        == 200
    )
    for role in (Role.reader, Role.submitter, Role.reviewer):
        headers = bearer(keys[role])
        assert api.get("/api/admin/schedules", headers=headers).status_code == 403
        assert api.get("/api/admin/schedules/nightly", headers=headers).status_code == 403
        changed = {**NIGHTLY, "cron": "* * * * *"}
        assert api.put("/api/admin/schedules/nightly", json=changed, headers=headers).status_code == 403
        assert api.put("/api/admin/schedules/theirs", json=NIGHTLY, headers=headers).status_code == 403
        assert api.delete("/api/admin/schedules/nightly", headers=headers).status_code == 403
    assert api.get("/api/admin/schedules").status_code == 401
    assert api.put("/api/admin/schedules/anon", json=NIGHTLY).status_code == 401
    (schedule,) = api.get("/api/admin/schedules", headers=bearer(keys[Role.admin])).json()
    assert schedule["name"] == "nightly" and schedule["cron"] == "0 2 * * *"
    assert schedule["updated_by"].startswith("test admin")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"cron": "every night"}, "cron 'every night' is not a valid cron expression"),
        ({"cron": "0 2 * *"}, "is not a valid cron expression"),
        ({"cron": "61 2 * * *"}, "is not a valid cron expression"),
        ({"job_type": "drop_everything"}, "Unknown job type 'drop_everything'"),
        ({"parameters": {"n": 0}}, "Invalid parameters for hello_world: n:"),
        ({"parameters": {"n": "many"}}, "Invalid parameters for hello_world: n:"),
        ({"enabled": "sometimes"}, "enabled"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_a_wrong_schedule_is_refused_with_what_to_fix(
    api: httpx.Client, keys: dict[Role, str], change: dict[str, object], said: str
) -> None:
    response = api.put(
        "/api/admin/schedules/nightly", json={**NIGHTLY, **change}, headers=bearer(keys[Role.admin])
    )
    assert response.status_code == 400, response.text
    assert said in response.json()["message"], response.json()
    assert response.json()["remediation"]
    assert listed(api, keys) == []


def test_a_bad_name_is_refused_and_deleting_works_once(api: httpx.Client, keys: dict[Role, str]) -> None:
    admin = bearer(keys[Role.admin])
    for name in ("Nightly", "a%20b", "..", "x" * 101):
        assert api.put(f"/api/admin/schedules/{name}", json=NIGHTLY, headers=admin).status_code in (400, 404)
    assert listed(api, keys) == []
    assert api.put("/api/admin/schedules/nightly", json=NIGHTLY, headers=admin).status_code == 200
    assert api.delete("/api/admin/schedules/nightly", headers=admin).status_code == 204
    assert api.delete("/api/admin/schedules/nightly", headers=admin).status_code == 404
    assert listed(api, keys) == []


def test_the_schedules_page_lists_them_to_admins_only(api: httpx.Client, keys: dict[Role, str]) -> None:
    evil = {**NIGHTLY, "parameters": {"n": 3, "_note": "<script>alert(1)</script>"}}
    assert (
        api.put("/api/admin/schedules/nightly", json=evil, headers=bearer(keys[Role.admin])).status_code
        == 200
    )
    for role, status in ((Role.reviewer, 403), (Role.admin, 200)):
        with httpx.Client(base_url=str(api.base_url)) as browser:
            assert sign_in(browser, keys[role]).status_code == 303
            page = browser.get("/interface/admin/schedules")
            assert page.status_code == status
    assert "nightly" in page.text and "0 2 * * *" in page.text and "hello_world" in page.text
    assert "<script>alert" not in page.text
