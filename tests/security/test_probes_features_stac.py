"""Query parameters of /features and /stac as an attacker sends them: SQL in sortby, properties,
bbox, datetime and ids, malformed values, oversized and deeply nested JSON bodies.

Every probe is answered with a 4xx, never with SQL text, a server path, a traceback or a key hash,
and the server keeps serving. (Filters, `filter=`, are probed in test_filters.)
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.security import test_filters
from tests.security.test_filters import COLLECTION, ITEMS, Served, assert_alive

served = test_filters.served  # the module's served release, published again for this module

SQL = [
    "name;DROP TABLE app.api_keys",
    "(SELECT key_hash FROM app.api_keys)",
    "name) UNION SELECT key_hash FROM app.api_keys--",
    "pg_sleep(5)",
    "name' OR '1'='1",
    '"name"; SELECT 1',
]
FEATURES_PROBES = [
    *({"sortby": value} for value in SQL),
    {"sortby": "-nosuchcolumn"},
    *({"properties": value} for value in SQL),
    {"bbox": "1,2,3"},
    {"bbox": "1,2,3,x"},
    {"bbox": "0,0,1,1);SELECT pg_sleep(5);--"},
    {"bbox": "nan,nan,nan,nan"},
    {"bbox": "1e400,0,1,1"},
    {"bbox": ",".join(["1"] * 1000)},
    {"datetime": "2024-01-01'; SELECT pg_sleep(5);--"},
    {"datetime": "2024-13-45"},
    {"datetime": "../.."},
    {"datetime": "x/y"},
    {"ids": "1' OR '1'='1"},
    {"ids": "1;DROP TABLE app.jobs"},
    {"ids": "../../etc/passwd"},
    {"limit": "-1"},
    {"limit": "1;SELECT 1"},
    {"offset": "-5"},
]
STAC_PROBES = [
    *({"sortby": value} for value in SQL),
    *({"fields": value} for value in SQL),
    {"bbox": "1,2,3"},
    {"bbox": "1,2,3,x"},
    {"bbox": "0,0,1,1);SELECT pg_sleep(5);--"},
    {"bbox": "nan,nan,nan,nan"},
    {"datetime": "2024-01-01'; SELECT pg_sleep(5);--"},
    {"datetime": "2024-13-45"},
    {"datetime": "x/y"},
    {"ids": "1' OR '1'='1"},
    {"collections": "stacfilters' OR '1'='1"},
    {"limit": "-1"},
    {"limit": "1;SELECT 1"},
]
# What a database error, a traceback or a configuration would show (the probes' own text aside).
LEAKS = (
    "Traceback",
    "asyncpg",
    "psycopg",
    "syntax error",
    "LINE 1",
    "pg_catalog",
    "site-packages",
    "/tmp/",
    "postgresql://",
    "terrace_app",
    "terrace_serving",
)


def assert_refused(probed: Served, response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (
        response.request.url,
        response.status_code,
        response.text[:300],
    )
    for leaked in (*LEAKS, *probed.key_hashes):
        assert leaked not in response.text, (response.request.url, leaked)


@pytest.mark.parametrize("params", FEATURES_PROBES, ids=lambda p: json.dumps(p)[:60])
def test_features_items_refuse_injected_and_malformed_parameters(
    served: Served, params: dict[str, str]
) -> None:
    assert_refused(served, served.api.get(ITEMS, params=params))


@pytest.mark.parametrize("params", STAC_PROBES, ids=lambda p: json.dumps(p)[:60])
@pytest.mark.parametrize("path", ["/stac/search", "/stac/collections/stacfilters/items"])
def test_stac_refuses_injected_and_malformed_parameters(
    served: Served, path: str, params: dict[str, str]
) -> None:
    assert_refused(served, served.api.get(path, params=params))


def test_stac_search_bodies_that_are_deep_or_malformed_are_refused(served: Served) -> None:
    bodies = [
        '{"intersects": ' + "[" * 5000 + '{"type": "Point", "coordinates": [0, 0]}' + "]" * 5000 + "}",
        json.dumps({"intersects": {"type": "Point", "coordinates": ["x"]}}),
        "[" * 100_000 + "]" * 100_000,
        '{"limit": 1',
        json.dumps({"sortby": [{"field": "(SELECT 1)", "direction": "asc"}]}),
        json.dumps({"ids": [{"$ne": None}]}),
        json.dumps({"bbox": [1, 2, 3]}),
        json.dumps({"collections": "x" * 100_000}),
    ]
    for body in bodies:
        response = served.api.post("/stac/search", content=body, headers={"content-type": "application/json"})
        assert_refused(served, response)
    assert_alive(served.api)


def test_feature_ids_that_are_not_ids_are_refused(served: Served) -> None:
    for feature_id in ("1' OR '1'='1", "0x1", "1;SELECT 1", "%00", "..%2F..%2Fetc%2Fpasswd", "9" * 40):
        assert_refused(served, served.api.get(f"/features/collections/{COLLECTION}/items/{feature_id}"))
    assert_alive(served.api)
