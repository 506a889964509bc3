"""Health checks: a stopped server is recorded down with the error, the scheduled tick checks every
service, uptime over 7 and 30 days, and the page and CLI that show them."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner, Result

from terrace.auth import Role
from terrace.cli import app
from terrace.db.pool import connect
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.scheduler import Scheduler
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.outbound import OutboundPolicy
from terrace.pipelines import default_registry
from terrace.services.health import scheduled_checks
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.services.servers import Loopback, Reply

LANDING = b'{"title": "Tiny", "links": [], "conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]}'
ROUTES = {"/": Reply(LANDING), "/collections": Reply(b'{"collections": [{"id": "a"}]}')}


def register(api: httpx.Client, key: str, url: str) -> dict[str, Any]:
    response = api.post("/api/services", json={"url": url}, headers=bearer(key))
    assert response.status_code == 201, response.text
    return response.json()


def test_a_stopped_server_is_recorded_down_with_the_error(api: httpx.Client, keys: dict[Role, str]) -> None:
    with Loopback(ROUTES) as server:
        service = register(api, keys[Role.submitter], server.url + "/")
    assert service["status"] == "up" and service["uptime_7d"] == 1.0
    check = api.post(f"/api/services/{service['service_id']}/check", headers=bearer(keys[Role.submitter]))
    assert check.status_code == 200, check.text
    assert check.json()["status"] == "down"
    assert "could not be reached" in check.json()["error"]
    view = api.get(f"/api/services/{service['service_id']}", headers=bearer(keys[Role.reader])).json()
    assert [c["status"] for c in view["checks"]] == ["up", "down"]
    assert view["status"] == "down" and view["uptime_7d"] == 0.5 and view["uptime_30d"] == 0.5
    reader = api.post(f"/api/services/{service['service_id']}/check", headers=bearer(keys[Role.reader]))
    assert reader.status_code == 403


def test_the_scheduled_tick_checks_every_service(
    api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage
) -> None:
    with Loopback(ROUTES) as first, Loopback(ROUTES) as second:
        ids = [register(api, keys[Role.submitter], s.url + "/")["service_id"] for s in (first, second)]
        scheduler = Scheduler(periodic=(scheduled_checks(OutboundPolicy(allow=("127.0.0.1",)), 300),))
        machine = CoreMachine(default_registry(), storage)
        with connect(database_url, autocommit=True) as conn:
            assert scheduler.run_due(conn, machine) == ["service_checks"]
            assert scheduler.run_due(conn, machine) == []  # not due again for 300 s
        assert len(first.requests) == len(second.requests) == 4  # probe: 2, first check, scheduled check
    for service_id in ids:
        view = api.get(f"/api/services/{service_id}", headers=bearer(keys[Role.reader])).json()
        assert [c["status"] for c in view["checks"]] == ["up", "up"]


def test_a_worker_runs_the_checks_on_schedule(
    api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage
) -> None:
    checks = scheduled_checks(OutboundPolicy(allow=("127.0.0.1",)), every_seconds=1)
    config = WorkerConfig(concurrency=1, poll_seconds=1, grace_seconds=1, janitor_seconds=0.3)
    worker = Worker(database_url, default_registry(), storage, config, Scheduler(periodic=(checks,)))
    with Loopback(ROUTES) as server:
        service_id = register(api, keys[Role.submitter], server.url + "/")["service_id"]
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while len(view(api, keys, service_id)["checks"]) < 3 and time.monotonic() < deadline:
                time.sleep(0.3)
        finally:
            worker.stop()
            thread.join(timeout=30)
    assert [c["status"] for c in view(api, keys, service_id)["checks"]][:3] == ["up", "up", "up"]


def view(api: httpx.Client, keys: dict[Role, str], service_id: str) -> dict[str, Any]:
    return api.get(f"/api/services/{service_id}", headers=bearer(keys[Role.reader])).json()


def test_uptime_over_7_and_30_days(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    with Loopback(ROUTES) as server:
        service_id = register(api, keys[Role.submitter], server.url + "/")["service_id"]
    with psycopg.connect(database_url) as conn:  # history as earlier scheduled checks left it
        for days, status in ((3, "up"), (3, "down"), (10, "down"), (20, "down"), (40, "down")):
            conn.execute(
                "INSERT INTO app.service_checks (service_id, status, checked_at)"
                " VALUES (%s, %s, now() - make_interval(days => %s))",
                [service_id, status, days],
            )
    view = api.get(f"/api/services/{service_id}", headers=bearer(keys[Role.reader])).json()
    assert view["uptime_7d"] == pytest.approx(2 / 3)  # now: up; 3 days ago: up, down
    assert view["uptime_30d"] == pytest.approx(2 / 5)  # and 10, 20 days ago: down; 40 days: out
    listed = api.get("/api/services", headers=bearer(keys[Role.reader])).json()
    assert listed[0]["uptime_7d"] == pytest.approx(2 / 3)


def ui(api: httpx.Client, key: str) -> httpx.Client:
    """A browser-like client signed in to the web UI with `key`."""
    client = httpx.Client(base_url=api.base_url, timeout=30)
    token = re.search(r'name="csrf" value="([^"]*)"', client.get("/interface/login").text)
    form = {"key": key, "next": "/interface/", "csrf": token.group(1) if token else ""}
    assert client.post("/interface/login", data=form).status_code == 303
    return client


def test_the_page_lists_services_with_labelled_lights_and_a_latency_sparkline(
    api: httpx.Client, keys: dict[Role, str]
) -> None:
    browser = ui(api, keys[Role.submitter])
    with Loopback(ROUTES) as server:
        page = browser.get("/interface/services").text
        token = re.search(r'name="csrf" value="([^"]*)"', page)
        assert token and 'action="/interface/services"' in page  # the register form, for submitters
        url = server.url + "/"
        registered = browser.post(
            "/interface/services", data={"url": url, "name": "<b>Tiny</b>", "csrf": token.group(1)}
        )
    assert registered.status_code == 303
    service = browser.get(registered.headers["location"])
    assert service.status_code == 200
    assert "&lt;b&gt;Tiny&lt;/b&gt;" in service.text and "<b>Tiny</b>" not in service.text
    assert '<svg class="sparkline"' in service.text and "<polyline" in service.text
    assert "<script" not in service.text.split("<main", 1)[-1]
    listing = browser.get("/interface/services").text
    assert re.search(r'class="light light-up"><span aria-hidden="true">●</span> up</span>', listing)
    assert "100.0 %" in listing
    reader_page = ui(api, keys[Role.reader]).get("/interface/services").text
    assert 'action="/interface/services"' not in reader_page


def test_the_cli(api: httpx.Client, keys: dict[Role, str]) -> None:
    env = {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": keys[Role.submitter]}

    def terrace(*args: str) -> Result:
        return CliRunner().invoke(app, ["services", *args], env=env)

    with Loopback(ROUTES) as server:
        added = terrace("add", server.url + "/", "--name", "Tiny")
        assert added.exit_code == 0, added.output
        service_id = added.stdout.split()[0]
        assert "ogcapi-features" in added.stdout and "next: terrace services show" in added.stdout
        assert service_id in terrace("list").stdout
        assert terrace("check", service_id).stdout.startswith("up  HTTP 200")
    assert '"layer_count": 1' in terrace("show", service_id).stdout
    assert terrace("check", service_id).stdout.startswith("down")
    assert terrace("remove", service_id).exit_code == 0
    assert terrace("list").stdout == ""
