"""Response headers and request limits as an attacker meets them: security headers and a request
id on every response, request ids that cannot inject headers or log lines, oversized and deeply
nested JSON, a web upload cut off while it streams, and archive limits (zip bombs, KMZ)."""

from __future__ import annotations

import gzip
import io
import json
import re
import socket
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.errors import InvalidInput
from terrace.ingest.archives import ArchiveLimits, check_archive
from terrace.storage import Storage
from tests.conftest import LiveServer, bearer
from tests.security.test_sessions import csrf_of, sign_in

DEFAULT_LIMITS = ArchiveLimits()
HEX_ID = re.compile(r"[0-9a-f]{32}")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture
def limited(app_config: AppConfig) -> Iterator[httpx.Client]:
    config = replace(app_config, rate_limits={"tiles": "2/minute"})
    with LiveServer(config) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_every_kind_of_response_carries_the_security_headers_and_a_request_id(
    limited: httpx.Client, keys: dict[Role, str]
) -> None:
    responses = [
        limited.get("/livez"),
        limited.get("/api/jobs"),  # 401
        limited.get("/api/jobs", headers=bearer(keys[Role.reader])),
        limited.get("/no/such/route"),  # 404
        limited.post(
            "/stac/search", content=b" " * (2 * 1024**2), headers={"content-type": "application/json"}
        ),
        limited.get("/features/collections", headers={"accept": "text/html"}),
        limited.get("/stac/"),
        limited.get("/interface/login"),
        limited.get("/interface/static/terrace.css"),
        limited.get("/docs"),
        limited.get("/openapi.json"),
        *(limited.get("/tiles/tileMatrixSets") for _ in range(3)),  # the last one is a 429
    ]
    assert {r.status_code for r in responses} >= {200, 401, 404, 413, 429}
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert HEX_ID.fullmatch(response.headers["x-request-id"]), response.url


def test_a_well_formed_request_id_is_echoed_and_any_other_is_replaced(api: httpx.Client) -> None:
    assert (
        api.get("/livez", headers={"X-Request-ID": "lb-7f3a:2.x_9"}).headers["x-request-id"]
        == "lb-7f3a:2.x_9"
    )
    for offered in (
        "a" * 129,
        "two words",
        "<script>alert(1)</script>",
        '"}{"level":"critical',
        "%0d%0aSet-Cookie:x=1",
        "",
    ):
        echoed = api.get("/livez", headers={"X-Request-ID": offered}).headers["x-request-id"]
        assert HEX_ID.fullmatch(echoed), offered
    unicode = api.get("/livez", headers=[(b"X-Request-ID", "идентификатор".encode())])
    assert HEX_ID.fullmatch(unicode.headers["x-request-id"])


def raw_request(base: str, head: bytes, body: Iterable[bytes] = ()) -> tuple[bytes, int]:
    """Send `head` and then `body` chunks until the server answers; the answer and the bytes sent."""
    parts = urlsplit(base)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        for chunk in body:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.setblocking(True)
        try:
            while not answer.endswith(b"}") and (data := sock.recv(65536)):
                answer += data
        except ConnectionResetError:
            pass
    return answer, sent


def test_line_breaks_in_a_request_id_inject_no_header(api: httpx.Client) -> None:
    host = urlsplit(str(api.base_url)).netloc.encode()
    answer, _ = raw_request(
        str(api.base_url),
        b"GET /livez HTTP/1.1\r\nHost: " + host + b"\r\nX-Request-ID: abc\r\nSet-Cookie: evil=1\r\n"
        b"Connection: close\r\n\r\n",
    )
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"evil" not in head and b"x-request-id: abc" in head
    folded, _ = raw_request(
        str(api.base_url),
        b"GET /livez HTTP/1.1\r\nHost: "
        + host
        + b"\r\nX-Request-ID: abc\r\n evil: 1\r\nConnection: close\r\n\r\n",
    )
    assert folded.startswith(b"HTTP/1.1 400") and b"evil" not in folded.lower()


def test_deeply_nested_and_oversized_json_is_refused_everywhere(
    api: httpx.Client, keys: dict[Role, str]
) -> None:
    submitter = {**bearer(keys[Role.submitter]), "content-type": "application/json"}
    nested = '{"dataset_id": "a", "resource_id": "b", "file_name": "x.gpkg", "processing_options": ' + (
        '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}"
    )
    for path in ("/api/platform/submit", "/stac/search", "/api/platform/approve"):
        response = api.post(path, content=nested, headers=submitter)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])
        assert "Traceback" not in response.text and "RecursionError" not in response.text
        large = api.post(path, content=b"[" + b"1," * 600_000 + b"1]", headers=submitter)
        assert large.status_code == 413, path
    assert api.get("/livez").status_code == 200


def test_a_web_upload_over_the_limit_is_cut_off_while_it_streams(
    api: httpx.Client, keys: dict[Role, str], storage: Storage
) -> None:
    assert sign_in(api, keys[Role.submitter]).status_code == 303
    csrf = csrf_of(api.get("/interface/submit"))
    cookie = "; ".join(f"{name}={value}" for name, value in api.cookies.items())
    boundary = "terraceboundary"
    fields = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {
            "csrf": csrf,
            "dataset_id": "floods",
            "resource_id": "huge",
            "access_level": "public",
        }.items()
    )
    preamble = (
        fields + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.geojson"\r\n'
        "Content-Type: application/geo+json\r\n\r\n"
    ).encode()
    host = urlsplit(str(api.base_url)).netloc
    head = (
        f"POST /interface/submit/check HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()

    def chunked() -> Iterator[bytes]:
        yield b"%x\r\n%s\r\n" % (len(preamble), preamble)
        piece = b" " * (256 * 1024)
        for _ in range(400):  # 100 MiB, 100 times the upload limit of this server
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    answer, sent = raw_request(str(api.base_url), head, chunked())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"TERRACE_UPLOAD_MAX_BYTES" in answer
    assert sent < 20 * 1024**2, sent  # the server stopped reading soon after the 1 MiB limit
    assert not storage.exists("bronze", "floods/huge/huge.geojson")


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_archives_over_their_limits_are_refused_before_gdal_opens_them(tmp_path: Path) -> None:
    def checked(name: str, data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> str | None:
        path = tmp_path / name
        path.write_bytes(data)
        try:
            check_archive(path, limits)
        except InvalidInput as exc:
            assert str(tmp_path) not in exc.message
            return exc.message
        return None

    bomb = zip_of({"doc.kml": b"<kml>" + b" " * (20 * 1024**2) + b"</kml>"})
    assert "zip bomb" in (checked("bomb.kmz", bomb) or "")
    assert "zip bomb" in (checked("bomb.zip", bomb) or "")
    assert "zip bomb" in (checked("disguised.gpkg", bomb) or "")  # recognized by content
    assert "zip bomb" in (
        checked("big.zip", zip_of({"a.shp": b"x" * 4096}), ArchiveLimits(max_unpacked_bytes=1000)) or ""
    )
    many = zip_of({f"{n}.txt": b"" for n in range(30)})
    assert "30 files" in (checked("many.zip", many, ArchiveLimits(max_members=20)) or "")
    assert "gzip" in (checked("data.geojson", gzip.compress(b"{}" * 1000)) or "")
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        archive.addfile(tarfile.TarInfo("a.shp"), io.BytesIO(b""))
    assert "tar" in (checked("data.tif", tar.getvalue()) or "")
    assert "not a valid zip" in (checked("broken.zip", bomb[: len(bomb) // 2] + bomb[-22:]) or "")
    assert checked("fine.kmz", zip_of({"doc.kml": b"<kml>" + b"<Placemark/>" * 100 + b"</kml>"})) is None
    assert (
        checked("plain.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode()) is None
    )


def test_a_kmz_bomb_submitted_fails_its_job_with_the_reason(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    from tests.workers import wait_for_job

    submitter = bearer(keys[Role.submitter])
    bomb = zip_of({"doc.kml": b"<kml>" + b" " * (4 * 1024**2) + b"</kml>"})
    assert (
        platform_api.put("/api/storage/bronze/floods/bomb.kmz", content=bomb, headers=submitter).status_code
        == 201
    )
    body = {
        "dataset_id": "floods",
        "resource_id": "bomb",
        "file_name": "floods/bomb.kmz",
        "access_level": "public",
    }
    submitted = platform_api.post("/api/platform/submit", json=body, headers=submitter)
    assert submitted.status_code == 202, submitted.text
    job = wait_for_job(database_url, submitted.json()["job_id"])
    assert job["status"] == "failed" and "zip bomb" in job["error"]["message"], job["error"]
