"""The public-zone API as an attacker meets it: read-only, no platform routes, no credentials that
open more, the filter guard, body limit and security headers of the main API."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from terrace.db.database import ensure_database
from tests.e2e.public import zone

public_template = zone.public_template
public_reader_password = zone.public_reader_password
public_owner_url = zone.public_owner_url
public_reader_url = zone.public_reader_url
public_target = zone.public_target
public_api = zone.public_api

ITEMS = "/features/collections/roads/items"
ATTACKS = (
    "pg_read_file('/etc/hostname') = 'x'",
    "pg_sleep(10) IS NULL",
    "int4(concat(query_to_xml('select 1', true, true, ''))) = 1",
)


@pytest.fixture
def roads(public_owner_url: str) -> None:
    """A table of the target as an export leaves it: in `geo`, catalogued, readable by the reader."""
    with psycopg.connect(public_owner_url) as conn:
        conn.execute(
            "CREATE TABLE geo.roads (objectid int PRIMARY KEY, name text, geom geometry(Point, 4326));"
            "INSERT INTO geo.roads VALUES (1, 'a', 'SRID=4326;POINT(106.8 -6.2)'),"
            " (2, 'b', 'SRID=4326;POINT(106.9 -6.1)');"
            "INSERT INTO geo.table_catalog (schema_name, table_name, access_level)"
            " VALUES ('geo', 'roads', 'public')"
        )


WRITES = [
    "/features/collections",
    ITEMS,
    "/stac/collections",
    "/stac/collections/roads",
    "/stac/collections/roads/items",
    "/stac/collections/roads/items/x",
    "/tiles/collections/roads/items/x/info",
]
MISSING = [
    ("GET", "/api/health"),
    ("POST", "/api/platform/submit"),
    ("POST", "/api/platform/approve"),
    ("POST", "/api/platform/clearance"),
    ("GET", "/api/jobs"),
    ("POST", "/api/admin/db/ensure"),
    ("PUT", "/api/storage/bronze/x.gpkg"),
    ("GET", "/interface/"),
    ("GET", "/features/drafts/collections"),
    ("GET", "/tiles/drafts/releases/x/cogs/0/info"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
]


def test_write_methods_are_refused(roads: None, public_api: httpx.Client) -> None:
    for path in WRITES:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = public_api.request(method, path, json={"id": "planted", "type": "Feature"})
            assert response.status_code in (404, 405), (method, path, response.text)
    assert public_api.get(ITEMS).json()["numberMatched"] == 2


def test_platform_admin_and_preview_routes_do_not_exist(public_api: httpx.Client) -> None:
    for method, path in MISSING:
        response = public_api.request(method, path, headers={"Authorization": "Bearer trc_anything"})
        assert response.status_code == 404, (method, path, response.text)


def test_credentials_open_nothing_more_and_headers_are_set(roads: None, public_api: httpx.Client) -> None:
    anonymous = public_api.get(ITEMS)
    with_token = public_api.get(ITEMS, headers={"Authorization": "Bearer not-a-key"})
    assert anonymous.status_code == with_token.status_code == 200
    assert anonymous.json()["numberMatched"] == with_token.json()["numberMatched"] == 2
    assert "default-src 'self'" in anonymous.headers["Content-Security-Policy"]
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    docs = public_api.get("/stac/docs")
    assert docs.status_code == 200 and public_api.get("/interface/static/docs.js").status_code == 200


def test_the_filter_guard_refuses_sql_functions(roads: None, public_api: httpx.Client) -> None:
    for attack in ATTACKS:
        for response in (
            public_api.get(ITEMS, params={"filter": attack}),
            public_api.get("/stac/search", params={"filter": attack}),
        ):
            assert response.status_code == 400 and response.json()["code"] == "FILTER_REFUSED", response.text
            assert "SELECT" not in response.text and "Traceback" not in response.text
    assert public_api.get(ITEMS, params={"filter": "name = 'a'"}).json()["numberMatched"] == 1


def test_large_bodies_are_refused(public_api: httpx.Client) -> None:
    response = public_api.post("/stac/search", content=b"{" + b" " * (128 * 1024) + b"}")
    assert response.status_code == 413, response.text


def test_the_reader_role_cannot_write_or_read_outside_the_served_schema(
    roads: None, public_reader_url: str
) -> None:
    for statement in (
        "INSERT INTO geo.roads (objectid, name) VALUES (3, 'x')",
        "UPDATE geo.table_catalog SET access_level = 'ouo'",
        "CREATE TABLE geo.planted (id int)",
        "SELECT pg_read_file('/etc/hostname')",
    ):
        with psycopg.connect(public_reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_reader_cannot_connect_to_the_main_database(
    owner_database_url: str, public_reader_url: str
) -> None:
    """Roles span the cluster: the reader's login must not open the main database, whose pgSTAC
    holds ouo and restricted items the reader's pgstac_read membership could otherwise read."""
    ensure_database(owner_database_url)  # a test database is cloned without the database's grants
    main = psycopg.conninfo.conninfo_to_dict(owner_database_url)["dbname"]
    reader_on_main = psycopg.conninfo.make_conninfo(public_reader_url, dbname=main)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(reader_on_main).close()
