"""Attacks on POST /api/analytics/zonal: hostile statistic names and identifiers, and someone else's
restricted release as an input. Each is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
from rasterio.transform import from_origin

from terrace.auth import Role, create_key
from tests.conftest import bearer
from tests.e2e.analytics.releases import publish_raster, write_grid, zonal

GRID = {"h3_grid": "g", "resolution": 5}
OUTPUT = {"dataset_id": "out", "resource_id": "stats"}


def written(database_url: str) -> tuple[int, int, int]:
    """Releases of the output asset, zonal jobs, and tables in the draft schema."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM app.assets WHERE dataset_id = 'out'),"
            " (SELECT count(*) FROM app.jobs WHERE job_type = 'zonal_statistics'),"
            " (SELECT count(*) FROM pg_tables WHERE schemaname = 'geo_draft')"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


@pytest.fixture
def served(
    platform_api: httpx.Client, keys: dict[Role, str], owner_database_url: str, tmp_path: Path
) -> None:
    """A public raster, a restricted one granted to reviewers only, and grid `g` over them."""
    data = np.ones((1, 20, 20), dtype="float32")
    transform = from_origin(100.0, 1.0, 0.05, 0.05)
    publish_raster(platform_api, keys, tmp_path / "open.tif", data, transform)
    publish_raster(platform_api, keys, tmp_path / "secret.tif", data, transform, "restricted", ("reviewer",))
    write_grid(owner_database_url, "g", 5, (100.1, 0.1, 100.9, 0.9))


HOSTILE_STATS = (
    "mean; DROP TABLE app.assets; --",
    'mean" FROM app.api_keys --',
    "quantile(q=0.5)",
    "__class__",
    "values",
    "m" * 5000,
)


def test_hostile_statistic_names_are_refused_by_name(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    raster = {"dataset_id": "open", "resource_id": "grid"}
    for stat in HOSTILE_STATS:
        refused = zonal(
            api, keys[Role.submitter], raster=raster, zones=GRID, stats=["mean", stat], output=OUTPUT
        )
        assert refused.status_code == 400, stat
        body = refused.json()
        assert body["code"] == "INVALID_INPUT" and "count, sum, mean" in body["remediation"]
        assert len(body["message"]) < 300 and "Traceback" not in refused.text
    assert written(database_url) == (0, 0, 0)


HOSTILE_FIELDS = (
    {"output": {"dataset_id": "out", "resource_id": "x'; DROP TABLE app.assets; --"}},
    {"output": {"dataset_id": 'out"', "resource_id": "stats"}},
    {"raster": {"dataset_id": "open", "resource_id": "grid", "version_id": "v1' OR '1'='1"}},
    {"raster": {"dataset_id": "open' OR 1=1 --", "resource_id": "grid"}},
    {"zones": {"h3_grid": "g' OR '1'='1", "resolution": 5}},
    {"zones": {"h3_grid": "g", "resolution": 5, "table": "app.api_keys"}},
    {"raster": {"dataset_id": "open", "resource_id": "grid"}, "output": {**OUTPUT, "schema": "app"}},
)


def test_sql_in_identifiers_is_refused_and_writes_nothing(
    api: httpx.Client, keys: dict[Role, str], database_url: str, served: None
) -> None:
    body = {
        "raster": {"dataset_id": "open", "resource_id": "grid"},
        "zones": GRID,
        "stats": ["mean"],
        "output": OUTPUT,
    }
    for field in HOSTILE_FIELDS:
        refused = zonal(api, keys[Role.submitter], **{**body, **field})
        assert refused.status_code in (400, 404), refused.text
        assert "Traceback" not in refused.text and "psycopg" not in refused.text
    assert written(database_url)[:2] == (0, 0)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.assets").fetchone() == (2,)


def test_a_restricted_raster_is_absent_to_the_ungranted_and_restricts_its_aggregate(
    api: httpx.Client, keys: dict[Role, str], database_url: str, served: None
) -> None:
    with psycopg.connect(database_url) as conn:
        other = create_key(conn, "another submitter", Role.submitter)[1]
    body = {"zones": GRID, "stats": ["mean"], "output": OUTPUT}
    hidden = zonal(api, other, raster={"dataset_id": "secret", "resource_id": "grid"}, **body)
    absent = zonal(api, other, raster={"dataset_id": "nothing", "resource_id": "grid"}, **body)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["message"].replace("secret", "nothing") == absent.json()["message"]
    assert written(database_url)[:2] == (0, 0)

    accepted = zonal(api, keys[Role.reviewer], raster={"dataset_id": "secret", "resource_id": "grid"}, **body)
    assert accepted.status_code == 202, accepted.text
    with psycopg.connect(database_url) as conn:
        level = conn.execute(
            "SELECT access_level::text, granted_roles FROM app.asset_releases WHERE release_id = %s",
            (accepted.json()["release_id"],),
        ).fetchone()
    assert level == ("restricted", ["reviewer"])
    status = api.get(accepted.json()["links"]["status"], headers=bearer(other))
    assert status.status_code == 404


def test_a_restricted_raster_as_weights_is_absent_to_the_ungranted(
    api: httpx.Client, keys: dict[Role, str], database_url: str, served: None
) -> None:
    with psycopg.connect(database_url) as conn:
        other = create_key(conn, "another submitter", Role.submitter)[1]
    body = {
        "raster": {"dataset_id": "open", "resource_id": "grid"},
        "zones": GRID,
        "stats": ["weighted_mean"],
        "output": OUTPUT,
    }
    secret = {"dataset_id": "secret", "resource_id": "grid"}
    hidden = zonal(api, other, **body, weights=secret)
    absent = zonal(api, other, **body, weights={"dataset_id": "nothing", "resource_id": "grid"})
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["message"].replace("secret", "nothing") == absent.json()["message"]
    assert "weights" in hidden.json()["message"]
    assert written(database_url) == (0, 0, 0)

    accepted = zonal(api, keys[Role.reviewer], **body, weights=secret)
    assert accepted.status_code == 202, accepted.text
    with psycopg.connect(database_url) as conn:
        level = conn.execute(
            "SELECT access_level::text, granted_roles FROM app.asset_releases WHERE release_id = %s",
            (accepted.json()["release_id"],),
        ).fetchone()
    assert level == ("restricted", ["reviewer"])


def test_only_submitters_may_run_zonal_statistics(api: httpx.Client, keys: dict[Role, str]) -> None:
    body = {
        "raster": {"dataset_id": "open", "resource_id": "grid"},
        "zones": GRID,
        "stats": ["mean"],
        "output": OUTPUT,
    }
    assert api.post("/api/analytics/zonal", json=body).status_code == 401
    assert zonal(api, keys[Role.reader], **body).status_code == 403
