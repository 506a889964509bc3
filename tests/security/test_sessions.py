"""Web UI sessions: sign-out ends them on the server, the login form needs its CSRF token, the cookie
is Secure over HTTPS, and the session secret of `terrace up` outlives an API process."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import httpx
import psycopg

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.cli.kept import session_secret
from tests.conftest import LiveServer

COOKIE = "terrace_session"


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the page's forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def login_token(client: httpx.Client) -> str:
    return csrf_of(client.get("/interface/login"))


def sign_in(client: httpx.Client, key: str) -> httpx.Response:
    return client.post("/interface/login", data={"key": key, "csrf": login_token(client)})


def sessions(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM app.web_sessions").fetchone()  # type: ignore[misc]
    return count


def test_a_cookie_replayed_after_sign_out_signs_nobody_in(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    assert sign_in(api, keys[Role.reviewer]).status_code == 303
    stolen = api.cookies[COOKIE]
    assert api.get("/interface/jobs").status_code == 200
    assert sessions(database_url) == 1

    assert api.post("/interface/logout", data={"csrf": csrf_of(api.get("/interface/"))}).status_code == 303
    assert sessions(database_url) == 0

    with httpx.Client(base_url=api.base_url, cookies={COOKIE: stolen}) as attacker:
        page = attacker.get("/interface/jobs")
        assert page.status_code == 303 and "/interface/login" in page.headers["location"]
        partial = attacker.get("/interface/health/live", headers={"HX-Request": "true"})
        assert partial.status_code == 401


def test_the_login_form_needs_its_csrf_token(api: httpx.Client, keys: dict[Role, str]) -> None:
    key = keys[Role.admin]
    without = api.post("/interface/login", data={"key": key})
    assert without.status_code == 403
    with httpx.Client(base_url=api.base_url) as other:
        forged = other.post("/interface/login", data={"key": key, "csrf": login_token(api)})
        assert forged.status_code == 403  # a token, but not the one of this browser's cookie
        assert other.get("/interface/jobs").status_code == 303
    assert api.get("/interface/jobs").status_code == 303
    assert sign_in(api, key).status_code == 303
    assert api.get("/interface/jobs").status_code == 200


def test_signing_in_starts_a_new_session_and_csrf_token(api: httpx.Client, keys: dict[Role, str]) -> None:
    before = login_token(api)
    assert sign_in(api, keys[Role.reader]).status_code == 303
    assert csrf_of(api.get("/interface/")) != before


def test_the_cookie_is_secure_when_the_request_came_over_https(api: httpx.Client) -> None:
    # The test server trusts X-Forwarded-Proto from loopback, as uvicorn does by default.
    plain = api.get("/interface/login")
    assert "secure" not in plain.headers["set-cookie"].lower()
    with httpx.Client(base_url=api.base_url, headers={"X-Forwarded-Proto": "https"}) as tls:
        secure = tls.get("/interface/login")
    flags = [flag.strip().lower() for flag in secure.headers["set-cookie"].split(";")]
    assert "secure" in flags and "httponly" in flags and "samesite=strict" in flags


def test_sessions_outlive_an_api_process_that_shares_the_secret(
    app_config: AppConfig, keys: dict[Role, str], tmp_path: Path
) -> None:
    secret = session_secret(tmp_path, None)
    assert session_secret(tmp_path, None) == secret
    assert oct((tmp_path / "session_secret").stat().st_mode & 0o777) == "0o600"
    assert session_secret(tmp_path, "configured") == "configured"

    config = dataclasses.replace(app_config, session_secret=secret)
    with LiveServer(config) as first, httpx.Client(base_url=first.url) as browser:
        assert sign_in(browser, keys[Role.reader]).status_code == 303
    with LiveServer(config) as restarted, httpx.Client(base_url=restarted.url) as same:
        same.cookies.update(browser.cookies)
        assert same.get("/interface/jobs").status_code == 200
