"""HTTP caching cannot leak: what one caller may see never reaches another through a validator,
a shared cache or a forwarded header."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.e2e.serving.test_features import publish

SECRET = "/features/collections/floods_secret_v1"
SECRET_PATHS = (
    f"{SECRET}/items?limit=10",
    SECRET,
    f"{SECRET}/tiles/WebMercatorQuad/10/815/529",
    "/features/collections/floods_secret_latest/items",
    "/stac/collections/floods/items/floods-secret-v1",
)


@pytest.fixture
def secret(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> str:
    """A release restricted to reviewers beside a public one; the restricted one's release id."""
    api = platform_api
    publish(api, keys, write_points(tmp_path / "open.gpkg", 20), "open", "public")
    upload(api, keys[Role.submitter], write_points(tmp_path / "secret.gpkg", 30), "floods/secret.gpkg")
    body = {"resource_id": "secret", "access_level": "restricted", "granted_roles": ["reviewer"]}
    submitted = submit(api, keys[Role.submitter], "floods/secret.gpkg", **body)
    assert submitted.status_code == 202, submitted.text
    wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    return str(submitted.json()["release_id"])


def answer(response: httpx.Response) -> tuple[int, str | None, str, str | None]:
    """What a caller learns from a refusal: status, error code, cache header, validator."""
    code = response.json().get("code") if response.status_code >= 400 else None
    return response.status_code, code, response.headers.get("cache-control", ""), response.headers.get("etag")


def test_a_borrowed_or_guessed_etag_reveals_nothing_of_restricted_data(
    platform_api: httpx.Client, keys: dict[Role, str], secret: str
) -> None:
    api, granted = platform_api, bearer(keys[Role.reviewer])
    for path in SECRET_PATHS:
        seen = api.get(path, headers=granted)
        assert seen.status_code == 200, (path, seen.text)
        etag = seen.headers["etag"]
        for caller in ({}, bearer(keys[Role.reader]), bearer(keys[Role.submitter])):
            plain = api.get(path, headers=caller)
            assert plain.status_code == 404 and answer(plain)[2] == "no-store", path
            for probe in (etag, "*", f"W/{etag}", '"00000000000000000000000000000000"'):
                probed = api.get(path, headers={**caller, "If-None-Match": probe})
                assert answer(probed) == answer(plain), (path, probe)
                assert probed.content == plain.content
        missing = api.get(path.replace("secret", "nowhere"), headers={"If-None-Match": "*"})
        assert answer(missing)[:3] == answer(api.get(path, headers={"If-None-Match": "*"}))[:3]


def test_answers_to_callers_with_credentials_are_never_marked_public(
    platform_api: httpx.Client, keys: dict[Role, str], secret: str
) -> None:
    api, granted = platform_api, bearer(keys[Role.reviewer])
    lists = ("/features/collections", "/stac/search?collections=floods", "/stac/collections/floods/items")
    for path in (*SECRET_PATHS, *lists, "/features/collections/floods_open_v1/items"):
        for who in (granted, bearer(keys[Role.reader])):
            response = api.get(path, headers=who)
            if response.status_code == 200:
                assert response.headers["cache-control"].startswith("private"), path
                assert "authorization" in response.headers["vary"].lower(), path

    # A list a granted reviewer sees holds the secret; the anonymous one does not, and the reviewer's ETag
    # does not validate it.
    for path in lists:
        private = api.get(path, headers=granted)
        assert "secret" in private.text
        shared = api.get(path, headers={"If-None-Match": private.headers["etag"]})
        assert shared.status_code == 200 and shared.headers["cache-control"].startswith("public")
        assert "secret" not in shared.text
        assert shared.headers["etag"] != private.headers["etag"]


def test_forwarded_headers_from_a_client_cannot_poison_the_links_a_cache_keeps(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    publish(api, keys, write_points(tmp_path / "open.gpkg", 20), "open", "public")
    forged = {"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example;proto=https"}
    for path in (
        "/stac/collections/floods/items/floods-open-v1",
        "/stac/search?collections=floods",
        "/features/collections/floods_open_v1/items",
        "/features/collections/floods_open_v1/tiles/WebMercatorQuad/tilejson.json",
    ):
        honest, poisoned = api.get(path), api.get(path, headers=forged)
        assert poisoned.status_code == 200 and "evil.example" not in poisoned.text, path
        assert poisoned.headers["etag"] == honest.headers["etag"], path


def test_draft_previews_are_never_stored_by_shared_caches(
    platform_api: httpx.Client, keys: dict[Role, str]
) -> None:
    api = platform_api
    drafts = api.get("/features/drafts/collections", headers=bearer(keys[Role.reviewer]))
    assert drafts.status_code == 200 and drafts.headers["cache-control"] == "private, no-cache"
    refused = api.get("/features/drafts/collections")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
