"""Attacks on the H3 grid API: hostile names, resolutions and areas, SQL in identifiers, reaching a
release the caller may not see. Each is refused with a 4xx naming the problem, nothing is written,
and no database text reaches the client."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import psycopg
from psycopg.types.json import Jsonb

from terrace.auth import Role
from tests.conftest import bearer

GRIDS = "/api/analytics/h3/grids"
BOX = {"bbox": [0, 0, 1, 1]}
LEAKS = ("Traceback", "psycopg", "syntax error", "relation ", "postgresql://")


def nothing_written(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM h3.grids").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM h3.cells").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone()[0] == 0


def refused(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    text = response.text
    assert not any(leak in text for leak in LEAKS), text
    return str(response.json()["message"])


HOSTILE_NAMES = [
    "../../etc/passwd",
    "x; DROP TABLE h3.cells",
    "x' OR '1'='1",
    "grid\x00null",
    "Ünïcode",
    "UPPER",
    "1starts_with_digit",
    "_underscore",
    "",
    "a" * 64,
    "with space",
    "dash-ed",
]


SQL_IN_IDENTIFIERS = [
    {"dataset_id": "floods'; DROP TABLE h3.grids;--", "resource_id": "jakarta"},
    {"dataset_id": "floods", "resource_id": 'x" OR 1=1 --'},
    {"dataset_id": "floods", "resource_id": "jakarta", "version_id": "v1' OR '1'='1"},
    {"dataset_id": "../geo", "resource_id": "pg_catalog.pg_authid"},
]
IMPOSSIBLE_RESOLUTIONS = [[16], [-1], [10**20], [1.5], [None], list(range(17)), [5] * 10_000, "7", {"r": 5}]


def test_hostile_names_resolutions_and_identifiers_are_refused(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    submitter, admin = bearer(keys[Role.submitter]), bearer(keys[Role.admin])
    for name in HOSTILE_NAMES:
        body = {"name": name, "resolutions": [5], "area": BOX}
        assert refused(api.post(GRIDS, json=body, headers=submitter)).startswith("Invalid request: name"), (
            name
        )
        if name:
            for method in ("GET", "DELETE"):
                response = api.request(method, f"{GRIDS}/{quote(name, safe='')}", headers=admin)
                assert response.status_code in (400, 404), (name, response.text)
                refused(response, response.status_code)
    for resolutions in IMPOSSIBLE_RESOLUTIONS:
        body = {"name": "res", "resolutions": resolutions, "area": BOX}
        assert refused(api.post(GRIDS, json=body, headers=submitter)).startswith(
            "Invalid request: resolutions"
        )
    for area in SQL_IN_IDENTIFIERS:
        body = {"name": "sneaky", "resolutions": [5], "area": area}
        response = api.post(GRIDS, json=body, headers=submitter)
        # an invalid identifier, or (checked first) no such asset: never a query built from it
        assert response.status_code in (400, 404), (area, response.text)
        refused(response, response.status_code)
    nothing_written(database_url)


def test_areas_that_are_not_areas(api: httpx.Client, keys: dict[Role, str], database_url: str) -> None:
    submitter = bearer(keys[Role.submitter])
    # a client cannot name the release itself, bypassing the visibility check of the catalog
    smuggled = {"name": "smuggled", "resolutions": [5], "area": {**BOX, "release_id": "any"}}
    assert refused(api.post(GRIDS, json=smuggled, headers=submitter)).startswith(
        "Invalid request: area.release_id"
    )
    for raw in (
        '{"name": "nan", "resolutions": [5], "area": {"bbox": [NaN, 0, 1, 1]}}',
        '{"name": "inf", "resolutions": [5], "area": {"bbox": [0, 0, Infinity, 1]}}',
    ):
        response = api.post(GRIDS, content=raw, headers={**submitter, "Content-Type": "application/json"})
        assert refused(response).startswith("Invalid request: area.bbox")
    huge = {"name": "huge", "resolutions": [5], "area": {"bbox": [0.5] * 200_000}}
    assert api.post(
        GRIDS, content=json.dumps(huge), headers={**submitter, "Content-Type": "application/json"}
    ).status_code in (400, 413)
    world = {"name": "world", "resolutions": [15], "area": {"bbox": [-180, -90, 180, 90]}}
    assert "TERRACE_H3_MAX_CELLS" in api.post(GRIDS, json=world, headers=submitter).json()["remediation"]
    missing = {
        "name": "missing",
        "resolutions": [5],
        "area": {"dataset_id": "nothing", "resource_id": "here"},
    }
    refused(api.post(GRIDS, json=missing, headers=submitter), 404)
    nothing_written(database_url)


def test_a_grid_of_a_release_is_hidden_with_it(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO h3.grids (name, resolutions, area, status) VALUES ('hidden', '{5}', %s, 'ready'), "
            "('open', '{5}', %s, 'ready')",
            (
                Jsonb(
                    {"dataset_id": "secret", "resource_id": "x", "version_id": "v1", "release_id": "r" * 32}
                ),
                Jsonb(BOX),
            ),
        )
    reader = bearer(keys[Role.reader])
    assert [g["name"] for g in api.get(GRIDS, headers=reader).json()] == ["open"]
    refused(api.get(f"{GRIDS}/hidden", headers=reader), 404)
    refused(api.get(GRIDS), 401)
