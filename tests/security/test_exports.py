"""Attacks on the export route: traversal and SQL in the names, injected formats, parts and
headers. Each is refused (400 or 404), leaks nothing, and leaves the served table whole."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import psycopg
import pytest

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.data import write_points
from tests.e2e.platform.test_exports import publish

BASE = "/api/platform/catalog"
SAFE_DISPOSITION = re.compile(r'^attachment; filename="[A-Za-z0-9._-]+"$')
LEAKS = ("Traceback", "psycopg", "adbc", "/tmp", "/work", "postgresql://", "geo_draft", "terrace_serving")


@pytest.fixture
def served(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> httpx.Client:
    """A public release served as floods_jakarta_v1, with 20 rows."""
    publish(platform_api, keys, write_points(tmp_path / "v1.gpkg", 20), "jakarta", access_level="public")
    return platform_api


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code in (400, 404), (response.status_code, response.text[:300])
    assert not any(leak in response.text for leak in LEAKS), response.text
    assert "x-injected" not in response.headers and "set-cookie" not in response.headers


HOSTILE = (
    f"{BASE}/..%2F..%2Fetc/passwd/v1/export",
    f"{BASE}/floods/..%2F..%2F..%2Fetc%2Fpasswd/v1/export",
    f"{BASE}/floods/jakarta/..%2Fv1/export",
    f"{BASE}/floods/jakarta/v1%2F..%2F..%2Fsecret/export",
    f"{BASE}/floods%27%3B%20DROP%20TABLE%20geo.floods_jakarta_v1%3B--/jakarta/v1/export",
    f"{BASE}/floods/jakarta%27%20OR%20%271%27%3D%271/v1/export",
    f"{BASE}/floods/jakarta/v1%27%3B%20SELECT%20pg_sleep(5)%3B--/export",
    f"{BASE}/floods/jakarta/v1%0d%0aSet-Cookie:%20x=1/export",
    f"{BASE}/floods/jakarta/v1/export?format=parquet%3B%20rm%20-rf%20%2F",
    f"{BASE}/floods/jakarta/v1/export?format=..%2F..%2Fetc%2Fpasswd",
    f"{BASE}/floods/jakarta/v1/export?format=csv%0d%0aX-Injected:%201",
    f"{BASE}/floods/jakarta/v1/export?format=parquet&part=..%2F..%2Fdrafts",
    f"{BASE}/floods/jakarta/v1/export?format=parquet&part=%27%3B%20DROP%20TABLE%20x%3B--",
    f"{BASE}/floods/jakarta/v1/export?format=parquet&part=%0d%0aX-Injected:%201",
)


def test_hostile_names_are_refused_and_the_table_stays(
    served: httpx.Client, keys: dict[Role, str], owner_database_url: str
) -> None:
    for path in HOSTILE:
        for headers in ({}, bearer(keys[Role.admin])):
            assert_refused(served.get(path, headers=headers))
    with psycopg.connect(owner_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM geo.floods_jakarta_v1").fetchone() == (20,)
    ok = served.get(f"{BASE}/floods/jakarta/v1/export", params={"format": "csv"})
    assert ok.status_code == 200 and ok.text.count("\n") == 21


def test_the_filename_header_is_built_from_the_served_table_only(served: httpx.Client) -> None:
    for version in ("v1", "V1", "latest", " latest"):
        for format_name in ("parquet", "csv", "fgb", "gpkg", "CSV"):
            response = served.get(f"{BASE}/FLOODS/Jakarta/{version}/export", params={"format": format_name})
            assert response.status_code == 200, response.text
            disposition = response.headers["content-disposition"]
            assert SAFE_DISPOSITION.match(disposition), disposition
            assert disposition.endswith(f'"floods_jakarta_v1.{format_name.lower()}"')


def test_an_unknown_format_is_refused_before_the_release_is_looked_up(served: httpx.Client) -> None:
    """The same 400 for a release that exists and one that does not: the format error tells nothing."""
    present = served.get(f"{BASE}/floods/jakarta/v1/export", params={"format": "xlsx"})
    absent = served.get(f"{BASE}/floods/nothing/v7/export", params={"format": "xlsx"})
    assert present.status_code == absent.status_code == 400
    assert present.json() == absent.json()
