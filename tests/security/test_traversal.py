"""Path traversal on the upload route and in submissions: plain, encoded, double-encoded,
backslash, absolute and Unicode look-alike variants. Each is a 4xx and nothing is written outside
the container (or at all); the answer names no server path."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import bearer

ESCAPES = [
    "../escaped.txt",
    "a/../../escaped.txt",
    "%2e%2e/escaped.txt",
    "%2E%2E%2Fescaped.txt",
    "%252e%252e/escaped.txt",
    "%252e%252e%252fescaped.txt",
    "..%5cescaped.txt",
    "..\\escaped.txt",
    "a\\..\\..\\escaped.txt",
    "/etc/escaped.txt",
    "//etc/escaped.txt",
    "%2fetc%2fescaped.txt",
    "C:\\escaped.txt",
    "\uff0e\uff0e/escaped.txt",
    "%EF%BC%8E%EF%BC%8E/escaped.txt",
    "\u2025/escaped.txt",
    "a/%00/escaped.txt",
    "./escaped.txt",
]


def raw_put(base: str, path: str, key: str) -> tuple[int, str]:
    """PUT to the path exactly as written (httpx would resolve dot segments first)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = "/api/storage/bronze/" + quote(path, safe="/%\\:")
    connection.putrequest("PUT", target, skip_accept_encoding=True)
    connection.putheader("Authorization", f"Bearer {key}")
    connection.putheader("Content-Length", "5")
    connection.endheaders(b"owned")
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    return response.status, body


def written_outside(storage: Storage, tmp_path: Path) -> list[Path]:
    inside = storage.local_root / "bronze"  # type: ignore[operator]
    return [p for p in tmp_path.rglob("escaped.txt") if inside not in p.parents] + [
        p for p in inside.rglob("escaped.txt")
    ]


def test_uploads_to_escaping_paths_are_refused(
    api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    for path in ESCAPES:
        status, body = raw_put(str(api.base_url), path, keys[Role.submitter])
        assert 400 <= status < 500, (path, status, body)
        assert str(tmp_path) not in body and "Traceback" not in body
    assert written_outside(storage, tmp_path) == []
    assert not Path("/etc/escaped.txt").exists()


def test_submissions_naming_escaping_files_are_refused(api: httpx.Client, keys: dict[Role, str]) -> None:
    for path in ESCAPES:
        body = {"dataset_id": "floods", "resource_id": "trav", "file_name": path, "access_level": "public"}
        response = api.post("/api/platform/submit", json=body, headers=bearer(keys[Role.submitter]))
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert "Traceback" not in response.text and "/tmp/" not in response.text
