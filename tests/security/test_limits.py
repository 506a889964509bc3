"""Request body limits: JSON bodies over TERRACE_BODY_MAX_BYTES are refused with 413 whether their
size is declared or streamed; the upload routes keep their own, larger limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.db.roles import RoleUrls
from terrace.storage import Storage
from tests.conftest import bearer
from tests.security.test_sessions import csrf_of, sign_in

MiB = 1024**2
BODY_LIMIT = MiB  # the default
UPLOAD_LIMIT = 4 * MiB


@pytest.fixture
def app_config(databases: RoleUrls, storage: Storage) -> AppConfig:
    return AppConfig(databases=databases, storage=storage, upload_max_bytes=UPLOAD_LIMIT)


def json_of(size: int) -> bytes:
    """A syntactically valid STAC search of `size` bytes (padded with spaces)."""
    body = b'{"limit": 1}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """`total` bytes sent without a Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def assert_too_large(response: httpx.Response, setting: str) -> None:
    assert response.status_code == 413, response.text
    error = response.json()
    assert error["code"] == "PAYLOAD_TOO_LARGE" and setting in error["remediation"]


def test_a_2_mib_search_is_refused_and_one_under_the_limit_is_served(api: httpx.Client) -> None:
    json = {"content-type": "application/json"}
    declared = api.post("/stac/search", content=json_of(2 * MiB), headers=json)
    assert declared.request.headers["content-length"] == str(2 * MiB)
    assert_too_large(declared, "TERRACE_BODY_MAX_BYTES")
    assert api.post("/stac/search", content=json_of(BODY_LIMIT), headers=json).status_code == 200


def test_a_streamed_body_is_counted(api: httpx.Client, keys: dict[Role, str]) -> None:
    json = {"content-type": "application/json"}
    streamed = api.post("/stac/search", content=chunks(2 * MiB), headers=json)
    assert streamed.request.headers.get("transfer-encoding") == "chunked"
    assert_too_large(streamed, "TERRACE_BODY_MAX_BYTES")
    submitted = api.post(
        "/api/platform/submit", content=chunks(2 * MiB), headers={**json, **bearer(keys[Role.submitter])}
    )
    assert_too_large(submitted, "TERRACE_BODY_MAX_BYTES")
    assert api.post("/stac/search", content=chunks(1000), headers=json).status_code != 413


def test_uploads_take_files_up_to_their_own_limit(
    api: httpx.Client, keys: dict[Role, str], storage: Storage
) -> None:
    submitter = bearer(keys[Role.submitter])
    data = b"x" * (3 * MiB)
    stored = api.put("/api/storage/bronze/big/three.bin", content=data, headers=submitter)
    assert stored.status_code == 201, stored.text
    assert storage.get("bronze", "big/three.bin") == data

    too_big = b"x" * (UPLOAD_LIMIT + 1)
    declared = api.put("/api/storage/bronze/big/declared.bin", content=too_big, headers=submitter)
    assert_too_large(declared, "TERRACE_UPLOAD_MAX_BYTES")
    streamed = api.put(
        "/api/storage/bronze/big/streamed.bin", content=chunks(UPLOAD_LIMIT + 1), headers=submitter
    )
    assert streamed.status_code == 413
    assert not storage.exists("bronze", "big/declared.bin")
    assert not storage.exists("bronze", "big/streamed.bin")


def test_the_upload_form_takes_files_over_the_body_limit(
    api: httpx.Client, keys: dict[Role, str], storage: Storage
) -> None:
    assert sign_in(api, keys[Role.submitter]).status_code == 303
    csrf = csrf_of(api.get("/interface/submit"))
    checked = api.post(
        "/interface/submit/check",
        data={"csrf": csrf, "dataset_id": "floods", "resource_id": "big", "access_level": "public"},
        files={"file": ("big.geojson", b" " * (2 * MiB), "application/geo+json")},
    )
    assert checked.status_code in (200, 400), checked.text  # checked: an empty file is not valid data
    assert storage.exists("bronze", "floods/big/big.geojson")
    refused = api.post(
        "/interface/submit/check",
        data={"csrf": csrf, "dataset_id": "floods", "resource_id": "huge", "access_level": "public"},
        files={"file": ("huge.geojson", b" " * (UPLOAD_LIMIT + 1), "application/geo+json")},
    )
    assert_too_large(refused, "TERRACE_UPLOAD_MAX_BYTES")
    assert not storage.exists("bronze", "floods/huge/huge.geojson")
