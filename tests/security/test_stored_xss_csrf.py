"""Stored markup in a title, column names and attribute values comes back escaped on every page
that shows it (server-rendered), markup in a dataset or resource name is refused, and every
state-changing form of the web UI refuses a request without its session's CSRF token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.security.test_sessions import csrf_of, sign_in

MARKUP = ("<img src=x onerror=alert(1)>", "<script>alert(2)</script>", '"><svg onload=alert(3)>')
RAW = ("<img src=x", "<script>alert", "<svg onload")


def write_features(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"note": MARKUP[n % 3], MARKUP[1]: n, '"><svg onload=alert(3)>': "v"},
            "geometry": {"type": "Point", "coordinates": [106.8 + n / 100, -6.2]},
        }
        for n in range(3)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def assert_escaped(response: httpx.Response) -> None:
    assert response.status_code == 200, (response.url, response.status_code)
    for raw in RAW:
        assert raw not in response.text, (response.url, raw)


def test_stored_markup_comes_back_escaped_on_every_page(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    for field in ("dataset_id", "resource_id"):
        body = {
            "dataset_id": "floods",
            "resource_id": "xss",
            "file_name": "floods/x.geojson",
            field: MARKUP[0],
        }
        refused = api.post("/api/platform/submit", json=body, headers=bearer(submitter))
        # JSON naming the value, never rendered as a page (and sent with nosniff).
        assert refused.status_code == 400 and refused.headers["content-type"] == "application/json"

    upload(api, submitter, write_features(tmp_path / "markup.geojson"), "floods/markup.geojson")
    submitted = submit(api, submitter, "floods/markup.geojson", resource_id="xss", title=" ".join(MARKUP))
    assert submitted.status_code == 202, submitted.text
    receipt = submitted.json()
    assert wait_done(api, submitter, receipt["request_id"])["job"]["status"] == "awaiting_approval"

    assert sign_in(api, keys[Role.admin]).status_code == 303
    release = receipt["release_id"]
    for page in ("/interface/", "/interface/review", f"/interface/review/{release}", "/interface/jobs"):
        assert_escaped(api.get(page))
    assert_escaped(api.get(f"/interface/jobs/{receipt['job_id']}"))
    assert approve(api, keys[Role.reviewer], release).status_code == 200
    table = api.get("/api/platform/catalog/floods/xss/latest", headers=bearer(keys[Role.reader])).json()
    for page in (
        "/interface/",
        "/interface/catalog",
        "/interface/assets/floods/xss",
        "/interface/catalog/assets/floods/xss",
        "/interface/catalog/features/floods_xss_v1",
        "/features/collections/floods_xss_v1?f=html",
        "/features/collections/floods_xss_v1/items?f=html",
        "/features/collections/floods_xss_v1/queryables?f=html",
    ):
        assert_escaped(api.get(page))
    assert table["version_id"] == "v1"


def test_every_form_refuses_a_post_without_the_sessions_csrf_token(
    api: httpx.Client, keys: dict[Role, str]
) -> None:
    forms = [
        "/interface/logout",
        "/interface/review/r1/approve",
        "/interface/review/r1/reject",
        "/interface/jobs/j1/cancel",
        "/interface/jobs/j1/resubmit",
        "/interface/assets/floods/xss/r1/revoke",
        "/interface/assets/floods/xss/r1/unpublish",
        "/interface/submit/live",
    ]
    other = httpx.Client(base_url=api.base_url, timeout=30)
    assert sign_in(other, keys[Role.admin]).status_code == 303
    foreign = csrf_of(other.get("/interface/submit"))
    assert sign_in(api, keys[Role.admin]).status_code == 303
    for path in forms:
        for data in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": foreign}):
            response = api.post(path, data={**data, "path": "floods/x.geojson", "reason": "x"})
            assert response.status_code == 403, (path, data, response.status_code)
    # A login form posted from another site (login CSRF) carries no token of this browser's session.
    fresh = httpx.Client(base_url=api.base_url, timeout=30)
    assert fresh.post("/interface/login", data={"key": keys[Role.admin], "csrf": foreign}).status_code == 403
    assert "terrace_session" not in fresh.cookies or fresh.get("/interface/submit").status_code != 200
    other.close()
    fresh.close()
