"""The Catalog health page: admins run a check, preview and apply a repair; a finding whose name is
markup comes back escaped; other roles and requests without the CSRF token are refused."""

from __future__ import annotations

import re
import time

import httpx
import psycopg
from tests.security.test_html import inline_code
from tests.security.test_sessions import csrf_of, sign_in

from terrace.auth import Role

MARKUP = "<b>x</b>"
PAGE = "/interface/admin/catalog"


def follow(client: httpx.Client, started: httpx.Response) -> str:
    """The run's partial once its job finished (the partial stops polling)."""
    assert started.status_code == 200, started.text
    html = started.text
    deadline = time.monotonic() + 60
    while (poll := re.search(r'hx-get="([^"]+)"', html)) and time.monotonic() < deadline:
        time.sleep(0.3)
        html = client.get(poll.group(1)).text
    assert "badge-completed" in html, html
    return html


def test_admins_check_preview_and_repair_from_the_page(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    client = platform_api
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE geo_draft."{MARKUP}" (id int)')
    assert sign_in(client, keys[Role.admin]).status_code == 303
    page = client.get(PAGE)
    assert page.status_code == 200 and "No check has run yet" in page.text
    assert f'href="{PAGE}">Catalog health</a>' in page.text
    token = {"X-CSRF-Token": csrf_of(page)}

    assert client.post(f"{PAGE}/check").status_code == 403, "a POST without the CSRF token is refused"
    assert "1 finding(s)" in follow(client, client.post(f"{PAGE}/check", headers=token))
    report = client.get(PAGE).text
    assert "orphan_table" in report and MARKUP not in report and "geo_draft.&lt;b&gt;x&lt;/b&gt;" in report
    assert inline_code(report) == [], "no inline script or handler (CSP)"

    preview = follow(client, client.post(f"{PAGE}/repair", data={"apply": "false"}, headers=token))
    assert "Preview: 1 action(s)" in preview and "badge-planned" in preview and MARKUP not in preview
    assert inline_code(preview) == []
    done = follow(client, client.post(f"{PAGE}/repair", data={"apply": "true"}, headers=token))
    assert "1 action(s) taken" in done and "badge-done" in done
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f'geo_draft."{MARKUP}"',)).fetchone() == (None,)


def test_other_roles_are_refused(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    assert sign_in(api, keys[Role.reviewer]).status_code == 303
    home = api.get("/interface/")
    assert "Catalog health" not in home.text
    token = {"X-CSRF-Token": csrf_of(home)}
    assert api.get(PAGE).status_code == 403
    assert api.post(f"{PAGE}/check", headers=token).status_code == 403
    assert api.post(f"{PAGE}/repair", data={"apply": "true"}, headers=token).status_code == 403
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (0,)
