"""Outbound requests to user-given URLs (SPEC §9): refusals before any connection, pinning, redirects
re-checked, size and time limits, XML entities refused, and who may remove a service.

Every request in these tests goes to 127.0.0.1. Refused targets (private, link-local, the cloud
metadata address ...) are never contacted: `socket.socket.connect` is wrapped to record every
connection attempt of this process (the API runs in it), and the tests assert none went there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.outbound import Outbound, OutboundFailed, OutboundPolicy, OutboundRefused
from tests.conftest import LiveServer, bearer
from tests.e2e.services.servers import Loopback, Reply

METADATA = "169.254.169.254"
# Internal targets that must be refused before any connection: the test asserts that no socket
# connected anywhere but the test's own loopback API.
REFUSED = [
    "http://10.0.0.1/",
    "http://192.168.1.10:8080/wms",
    f"http://{METADATA}/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    f"http://[::ffff:{METADATA}]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form of the metadata address
    "http://[2002:a9fe:a9fe::]/",  # 6to4 form of it
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://240.0.0.1/",
    "http://100.64.0.1/",
    "http://127.0.0.1/",
    "http://2130706433/",  # 127.0.0.1 written as one number: what it resolves to is checked
    "http://localhost/",
]
NOT_HTTP = ["ftp://example.org/", "file:///etc/passwd", "http://user:secret@example.org/", "http:///nohost"]
LANDING = b'{"title": "x", "links": [], "conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]}'


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every address a socket of this process tries to connect to during the test."""
    attempts: list[object] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def recording(method):  # type: ignore[no-untyped-def]
        def wrapper(self, address):  # type: ignore[no-untyped-def]
            attempts.append(address)
            return method(self, address)

        return wrapper

    monkeypatch.setattr(socket.socket, "connect", recording(connect))
    monkeypatch.setattr(socket.socket, "connect_ex", recording(connect_ex))
    yield attempts


def hosts(attempts: list[object]) -> set[str]:
    return {str(a[0]) for a in attempts if isinstance(a, tuple)}


def test_internal_targets_are_refused_with_400_and_no_connection(
    api: httpx.Client, keys: dict[Role, str], connections: list[object]
) -> None:
    for url in REFUSED:
        response = api.post("/api/services", json={"url": url}, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 400, (url, response.text)
        assert response.json()["code"] == "OUTBOUND_REFUSED", url
        assert "TERRACE_OUTBOUND_ALLOW" in response.json()["remediation"]
    for url in NOT_HTTP:
        response = api.post("/api/services", json={"url": url}, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 400, (url, response.text)
        assert response.json()["code"] == "INVALID_INPUT", url
    api_port = api.base_url.port
    assert connections and all(a[1] == api_port for a in connections if isinstance(a, tuple)), connections


def test_a_listening_loopback_server_is_not_contacted_without_the_allow_list(
    api: httpx.Client, keys: dict[Role, str]
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        response = api.post("/api/services", json={"url": url}, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 400 and response.json()["code"] == "OUTBOUND_REFUSED"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()


def test_a_redirect_to_the_metadata_address_is_refused_at_the_hop(connections: list[object]) -> None:
    redirect = Reply(b"", 302, {"Location": f"http://{METADATA}/latest/meta-data/iam/"})
    with Loopback({"/": redirect}) as server, Outbound(OutboundPolicy(allow=("127.0.0.1",))) as client:
        with pytest.raises(OutboundRefused, match="link-local"):
            client.get(server.url + "/")
    assert server.requests == [("/", f"127.0.0.1:{server.port}")]
    assert METADATA not in hosts(connections)


def test_too_many_redirects_stop() -> None:
    with Loopback({"/": Reply(b"", 302, {"Location": "/"})}) as server:
        with Outbound(OutboundPolicy(allow=("127.0.0.1",), max_redirects=3)) as client:
            with pytest.raises(OutboundFailed, match="more than 3 times"):
                client.get(server.url + "/")
    assert len(server.requests) == 4


class Rebinding:
    """A resolver whose first answer is an allowed address and every later one the metadata one:
    what a DNS-rebinding attacker's name server does."""

    def __init__(self, first: str) -> None:
        self.first = first
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return [self.first] if len(self.calls) == 1 else [METADATA]


def test_the_connection_is_pinned_to_the_checked_address(connections: list[object]) -> None:
    with Loopback({"/": Reply(LANDING)}) as server:
        resolver = Rebinding("127.0.0.1")
        policy = OutboundPolicy(allow=("127.0.0.0/8",), resolver=resolver)
        with Outbound(policy) as client:
            response = client.get(f"http://rebind.test:{server.port}/")
    assert response.status == 200 and response.content == LANDING
    assert resolver.calls == ["rebind.test"]  # resolved once, and that answer was used
    assert server.requests == [("/", f"rebind.test:{server.port}")]  # Host keeps the name
    assert METADATA not in hosts(connections)


def test_a_redirect_to_the_same_name_is_resolved_and_checked_again(connections: list[object]) -> None:
    with Loopback({"/": Reply(b"", 302, {"Location": "/next"}), "/next": Reply(LANDING)}) as server:
        resolver = Rebinding("127.0.0.1")
        with Outbound(OutboundPolicy(allow=("127.0.0.0/8",), resolver=resolver)) as client:
            with pytest.raises(OutboundRefused, match=METADATA):
                client.get(f"http://rebind.test:{server.port}/")
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert [path for path, _ in server.requests] == ["/"]
    assert METADATA not in hosts(connections)


def test_a_name_with_any_internal_address_is_refused(connections: list[object]) -> None:
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.215.14", "10.1.2.3"])
    with Outbound(policy) as client, pytest.raises(OutboundRefused, match="private"):
        client.get("http://mixed.test/")
    assert connections == []


def test_a_huge_response_is_cut_off_at_the_cap() -> None:
    sent = {"bytes": 0}

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        chunk = b" " * 65536
        try:
            for _ in range(1600):  # 100 MiB unless the client hangs up
                handler.wfile.write(chunk)
                sent["bytes"] += len(chunk)
        except OSError:
            pass

    with Loopback({"/": endless}) as server:
        with Outbound(OutboundPolicy(allow=("127.0.0.1",), max_bytes=1024**2)) as client:
            with pytest.raises(OutboundFailed) as refused:
                client.get(server.url + "/")
        time.sleep(0.2)
    assert refused.value.code == "RESPONSE_TOO_LARGE"
    assert sent["bytes"] < 50 * 1024**2


@pytest.mark.parametrize("drip", [False, True], ids=["silent", "dripping"])
def test_a_slow_server_times_out(drip: bool) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        if drip:  # headers at once, then a byte now and then: only the overall deadline stops it
            handler.send_response(200)
            handler.end_headers()
        try:
            for _ in range(30):
                time.sleep(0.2)
                if drip:
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
        except OSError:
            pass

    with Loopback({"/": slow}) as server:
        with Outbound(OutboundPolicy(allow=("127.0.0.1",), timeout_seconds=1.0)) as client:
            started = time.monotonic()
            with pytest.raises(OutboundFailed) as failed:
                client.get(server.url + "/")
    assert failed.value.code == "OUTBOUND_TIMEOUT"
    assert time.monotonic() - started < 3


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE WMS_Capabilities [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms">
<Service><Name>WMS</Name><Title>&secret;</Title></Service></WMS_Capabilities>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms">
<Service><Name>WMS</Name><Title>&lol4;</Title></Service></WMS_Capabilities>"""


@pytest.fixture
def allowed_api(app_config: AppConfig) -> Iterator[httpx.Client]:
    """The live API allowed to contact 127.0.0.1 (where the tests' fake services run)."""
    config = replace(app_config, outbound=OutboundPolicy(allow=("127.0.0.1",), timeout_seconds=5))
    with LiveServer(config) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize("document", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_xml_declaring_entities_is_refused(
    allowed_api: httpx.Client, keys: dict[Role, str], document: bytes
) -> None:
    xml = Reply(document, headers={"Content-Type": "text/xml"})
    with Loopback({"/wms": xml}) as server:
        url = f"{server.url}/wms?SERVICE=WMS&REQUEST=GetCapabilities"
        response = allowed_api.post("/api/services", json={"url": url}, headers=bearer(keys[Role.submitter]))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "UNSAFE_XML"
    assert "root:" not in response.text and "lollol" not in response.text
    listed = allowed_api.get("/api/services", headers=bearer(keys[Role.reader])).json()
    assert listed == []


def test_only_the_registrant_or_an_admin_may_remove_a_service(
    allowed_api: httpx.Client, keys: dict[Role, str]
) -> None:
    with Loopback({"/": Reply(LANDING), "/collections": Reply(b'{"collections": []}')}) as server:
        body = {"url": server.url + "/"}
        reader = allowed_api.post("/api/services", json=body, headers=bearer(keys[Role.reader]))
        assert reader.status_code == 403
        created = allowed_api.post("/api/services", json=body, headers=bearer(keys[Role.submitter]))
    assert created.status_code == 201, created.text
    service_id = created.json()["service_id"]
    path = f"/api/services/{service_id}"
    assert allowed_api.delete(path, headers=bearer(keys[Role.reviewer])).status_code == 403
    assert allowed_api.get(path, headers=bearer(keys[Role.reader])).status_code == 200
    assert allowed_api.delete(path, headers=bearer(keys[Role.admin])).status_code == 204
    assert allowed_api.get(path, headers=bearer(keys[Role.reader])).status_code == 404
