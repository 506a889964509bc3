"""CQL2 filters as an attacker sends them: SQL functions, deep nesting, unknown properties, DB errors.

One served vector release and one STAC collection, published once for the module; every request
is anonymous unless it says otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cql2
import httpx
import psycopg
import pyarrow as pa
import pyogrio
import pytest
import shapely

from terrace.api.app import AppConfig
from terrace.auth import Role, create_key
from terrace.db.cluster import LocalCluster
from terrace.db.roles import login_urls
from terrace.storage import Storage
from tests.conftest import LiveServer, bearer, create_database, drop_database
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.serving import stac_data

COLLECTION = "floods_filters_v1"
ITEMS = f"/features/collections/{COLLECTION}/items"
TILE = f"/features/collections/{COLLECTION}/tiles/WebMercatorQuad/10/815/529"
NAMES = ["alpha", "apex", "beta", "bravo", "gamma", "delta", "echo", "alpha2", "zeta", None]

ATTACKS = {
    "query_to_xml": "int4(concat(query_to_xml('select string_agg(key_hash, '','') from app.api_keys',"
    " true, true, ''))) = 1",
    "pg_read_file": "pg_read_file('/etc/hostname') = 'x'",
    "lo_export": "lo_export(lo_from_bytea(0, 'x'), '/tmp/terrace-owned') = 1",
    "pg_sleep": "pg_sleep(10) IS NULL",
}


@dataclass
class Served:
    api: httpx.Client
    reviewer: str
    key_hashes: list[str]


def write_rows(path: Path) -> Path:
    """Ten points west to east at -6.2; `value` n, `observed` 2024-01-(n+1), the last name NULL."""
    n = len(NAMES)
    points = shapely.points([106.7 + 0.02 * i for i in range(n)], [-6.2] * n)
    days = [dt.datetime(2024, 1, i + 1, tzinfo=dt.UTC) for i in range(n)]
    table = pa.table(
        {
            "name": pa.array(NAMES, pa.string()),
            "value": pa.array(range(n), pa.int64()),
            "observed": pa.array(days, pa.timestamp("s", tz="UTC")),
            "geometry": shapely.to_wkb(points),
        }
    )
    pyogrio.write_arrow(
        table, path, driver="GPKG", geometry_name="geometry", geometry_type="Point", crs="EPSG:4326"
    )
    return path


@pytest.fixture(scope="module")
def served(
    cluster: LocalCluster,
    template_database: str,
    role_passwords: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    from terrace.orchestration.worker import Worker, WorkerConfig
    from terrace.pipelines import default_registry

    tmp = tmp_path_factory.mktemp("filters")
    name = create_database(cluster, template_database)
    url = cluster.url(name)
    databases = login_urls(url, role_passwords)
    storage = Storage.local(tmp / "storage")
    storage.create_containers()
    with psycopg.connect(url) as conn:
        keys = {role: create_key(conn, f"test {role.value}", role)[1] for role in Role}
    worker = Worker(
        databases.app,
        default_registry(),
        storage,
        WorkerConfig(concurrency=2, lease_seconds=10, poll_seconds=1, grace_seconds=5, janitor_seconds=0.5),
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    config = AppConfig(databases=databases, storage=storage, upload_max_bytes=1024 * 1024)
    try:
        with LiveServer(config) as server, httpx.Client(base_url=server.url, timeout=30) as api:
            upload(api, keys[Role.submitter], write_rows(tmp / "rows.gpkg"), "floods/rows.gpkg")
            submitted = submit(api, keys[Role.submitter], "floods/rows.gpkg", resource_id="filters")
            assert submitted.status_code == 202, submitted.text
            assert wait_done(api, keys[Role.submitter], submitted.json()["request_id"])["job"]["status"] == (
                "awaiting_approval"
            )
            assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
            draft = submit(api, keys[Role.submitter], "floods/rows.gpkg", resource_id="draftf")
            assert wait_done(api, keys[Role.submitter], draft.json()["request_id"])["job"]["status"] == (
                "awaiting_approval"
            )
            worker.stop()
            stac_data.load(
                url,
                [stac_data.collection("stacfilters", "public"), stac_data.collection("stacbroken", "public")],
                [
                    *(stac_data.item("stacfilters", n, "public") for n in range(5)),
                    stac_data.item("stacbroken", 0, "public", href="/nonexistent/terrace-secret/x.tif"),
                ],
            )
            with psycopg.connect(url) as conn:
                hashes = [row[0] for row in conn.execute("SELECT key_hash FROM app.api_keys")]
            yield Served(api, keys[Role.reviewer], hashes)
    finally:
        worker.stop()
        thread.join(timeout=30)
        drop_database(cluster, name)


def as_json(text: str) -> str:
    return json.dumps(cql2.Expr(text).to_json())


def assert_alive(api: httpx.Client) -> None:
    assert api.get("/features/collections").status_code == 200
    assert api.get("/stac/search", params={"limit": 1}).status_code == 200


def assert_nothing_leaked(served: Served, response: httpx.Response) -> None:
    body = response.text
    for leaked in (*served.key_hashes, "api_keys", "SELECT", "asyncpg", "psycopg", "Traceback"):
        assert leaked not in body


@pytest.mark.parametrize("path", [ITEMS, TILE], ids=["items", "tiles"])
@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_sql_functions_in_a_features_filter_answer_400_naming_them(
    served: Served, path: str, lang: str, attack: str
) -> None:
    text = ATTACKS[attack]
    started = time.monotonic()
    response = served.api.get(
        path, params={"filter": text if lang == "cql2-text" else as_json(text), "filter-lang": lang}
    )
    assert time.monotonic() - started < 2
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "FILTER_REFUSED"
    assert attack.split("_")[0] in response.json()["message"]
    assert_nothing_leaked(served, response)
    assert not Path("/tmp/terrace-owned").exists()


def test_draft_previews_refuse_sql_functions_too(served: Served) -> None:
    items = "/features/drafts/collections/floods_draftf_ord1/items"
    legit = served.api.get(items, params={"filter": "value > 3"}, headers=bearer(served.reviewer))
    assert legit.status_code == 200 and legit.json()["numberMatched"] == 6, legit.text
    for text in ATTACKS.values():
        response = served.api.get(items, params={"filter": text}, headers=bearer(served.reviewer))
        assert response.status_code == 400 and response.json()["code"] == "FILTER_REFUSED", response.text


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_sql_functions_in_a_stac_filter_answer_400_naming_them(served: Served, attack: str) -> None:
    text = ATTACKS[attack]
    responses = [
        served.api.get("/stac/search", params={"filter": text}),
        served.api.get("/stac/collections/stacfilters/items", params={"filter": text}),
        served.api.post(
            "/stac/search", json={"filter": cql2.Expr(text).to_json(), "filter-lang": "cql2-json"}
        ),
    ]
    for response in responses:
        assert response.status_code == 400, response.text
        assert attack.split("_")[0] in response.json()["message"]
        assert_nothing_leaked(served, response)


DEEP_TEXT = "value = 1 AND " + "(" * 2000 + "value = 1" + ")" * 2000


def deep_json(levels: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"op": "=", "args": [{"property": "id"}, "x"]}
    for _ in range(levels):
        tree = {"op": "not", "args": [tree]}
    return tree


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "limit"),
    [
        ("GET", ITEMS, {"filter": DEEP_TEXT}, None, "32"),
        ("GET", TILE, {"filter": DEEP_TEXT}, None, "32"),
        ("GET", ITEMS, {"filter": "value = " + "-" * 4000 + "1"}, None, "32"),
        ("GET", ITEMS, {"filter": "value = 1" + " - 1" * 1000}, None, "64"),
        ("GET", "/stac/search", {"filter": DEEP_TEXT}, None, "32"),
        ("GET", "/stac/collections/stacfilters/items", {"filter": DEEP_TEXT}, None, "32"),
        (
            "GET",
            "/stac/search",
            {"filter": json.dumps(deep_json(40)), "filter-lang": "cql2-json"},
            None,
            "64",
        ),
        ("POST", "/stac/search", None, '{"filter": ' + '{"op": "not", "args": [' * 2000, "65"),
        ("POST", "/stac/search", None, json.dumps({"filter": deep_json(40)}), "65"),
    ],
    ids=[
        "items-text",
        "tiles-text",
        "items-negations",
        "items-operator-chain",
        "stac-get",
        "stac-items-get",
        "stac-get-json",
        "stac-post-2000",
        "stac-post-40",
    ],
)
def test_deep_filters_answer_400_with_the_limit_and_the_server_lives(
    served: Served, method: str, path: str, params: dict[str, str] | None, body: str | None, limit: str
) -> None:
    headers = {"Content-Type": "application/json"}
    response = served.api.request(method, path, params=params, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "FILTER_TOO_DEEP" and limit in response.json()["message"]
    assert_alive(served.api)


def test_long_filters_answer_400_with_the_limit(served: Served) -> None:
    text = "name IN (" + ", ".join(["'abcdefgh'"] * 400) + ")"
    for response in (
        served.api.get(ITEMS, params={"filter": text}),
        served.api.get("/stac/search", params={"filter": text}),
        served.api.post("/stac/search", json={"filter": cql2.Expr(text.replace("name", "id")).to_json()}),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "FILTER_TOO_LONG" and "4096" in response.json()["message"]


def test_properties_that_are_not_columns_answer_400_naming_them(served: Served) -> None:
    response = served.api.get(ITEMS, params={"filter": "key_hash = 'x' OR value = 1"})
    assert response.status_code == 400 and "key_hash" in response.json()["message"], response.text
    stac = served.api.get("/stac/search", params={"filter": "\"id') OR (1=1\" = 'x'"})
    assert stac.status_code == 400 and "id') OR (1=1" in stac.json()["message"], stac.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'beta'", 1),
        ("value > 3 AND value < 10", 6),
        ("name LIKE 'a%'", 3),
        ("value BETWEEN 2 AND 4", 3),
        ("name IN ('beta', 'echo')", 2),
        ("name IS NULL", 1),
        ("NOT (name IS NULL) AND value < 2", 2),
        ("S_INTERSECTS(geom, BBOX(106.69, -6.3, 106.75, -6.1))", 3),
        ("S_INTERSECTS(geom, POLYGON((106.69 -6.3, 106.75 -6.3, 106.75 -6.1, 106.69 -6.1, 106.69 -6.3)))", 3),
        ("T_AFTER(observed, TIMESTAMP('2024-01-05T12:00:00Z'))", 5),
        ("T_DURING(observed, INTERVAL('2024-01-01T12:00:00Z', '2024-01-03T12:00:00Z'))", 2),
        ("CASEI(name) = casei('BETA')", 1),
        ("value * 2 + 1 > 15", 2),
        ("((((value = 1))))", 1),
    ],
)
def test_standard_filters_keep_working_on_features(served: Served, text: str, expected: int) -> None:
    for lang, sent in (("cql2-text", text), ("cql2-json", as_json(text))):
        response = served.api.get(ITEMS, params={"filter": sent, "filter-lang": lang, "limit": 100})
        assert response.status_code == 200, response.text
        assert response.json()["numberMatched"] == expected, (lang, sent)
    tile = served.api.get(TILE, params={"filter": text})
    assert tile.status_code in (200, 204), tile.text


def stac_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(feature["id"] for feature in response.json()["features"])


def test_standard_filters_keep_working_on_stac(served: Served) -> None:
    api, west = served.api, "s_intersects(geometry, bbox(106.7, -6.2, 106.715, -6.19))"
    assert stac_ids(api.get("/stac/search", params={"filter": "id = 'stacfilters-1'"})) == ["stacfilters-1"]
    inside = api.get("/stac/search", params={"filter": west, "collections": "stacfilters"})
    assert stac_ids(inside) == ["stacfilters-0", "stacfilters-1"]
    items = api.get("/stac/collections/stacfilters/items", params={"filter": "id IN ('stacfilters-3')"})
    assert stac_ids(items) == ["stacfilters-3"]
    after = "T_AFTER(datetime, TIMESTAMP('2024-01-03T12:00:00Z')) AND collection = 'stacfilters'"
    assert stac_ids(api.get("/stac/search", params={"filter": after})) == ["stacfilters-3", "stacfilters-4"]
    posted = api.post(
        "/stac/search",
        json={
            "collections": ["stacfilters"],
            "filter": cql2.Expr(f"{west} AND id <> 'stacfilters-0'").to_json(),
            "filter-lang": "cql2-json",
        },
    )
    assert stac_ids(posted) == ["stacfilters-1"]


def test_database_errors_answer_500_with_a_logged_reference_and_no_sql(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    # Allowed filters the database then refuses: text compared with a number; pgSTAC's missing operator.
    failing = [
        served.api.get(ITEMS, params={"filter": "name > 3"}),
        served.api.get(TILE, params={"filter": "name > 3"}),
        served.api.get("/stac/search", params={"filter": "a_containedBy(id, ('x'))"}),
    ]
    for response in failing:
        assert response.status_code == 500, response.text
        body = response.json()
        assert body["code"] == "INTERNAL_ERROR" and body["reference"] in body["remediation"]
        assert_nothing_leaked(served, response)
        for internal in ("operator", "text", "geo.", "pgstac", "a_containedby", "Not Supported"):
            assert internal not in body["message"]
        logged = [r for r in caplog.records if body["reference"] in r.getMessage()]
        assert logged and logged[0].levelno == logging.ERROR and logged[0].exc_info
    assert_alive(served.api)


def test_server_errors_of_tiles_answer_500_with_a_reference_and_no_path(served: Served) -> None:
    response = served.api.get(
        "/tiles/collections/stacbroken/items/stacbroken-0/info", params={"assets": "data"}
    )
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "INTERNAL_ERROR" and response.json()["reference"]
    assert "terrace-secret" not in response.text and "nonexistent" not in response.text


def test_client_errors_keep_their_status(served: Served) -> None:
    assert served.api.get("/features/collections/nothing_here/items").status_code == 404
    assert served.api.get(ITEMS, params={"bbox": "1,2"}).status_code == 400  # Terrace reads bbox
    assert served.api.get("/stac/collections/nothing_here").status_code == 404
    assert served.api.get(ITEMS, params={"filter": "value ="}).status_code == 400
