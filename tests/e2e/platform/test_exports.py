"""Exports of served vector releases as a client downloads them: each format read back by
pyogrio or pyarrow holds the served table's rows; visibility, versions and memory."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import httpx
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyogrio
import shapely

from terrace.auth import Role
from terrace.db.roles import RoleUrls
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.data import write_points

EXPORT = "/api/platform/catalog/floods/{resource}/{version}/export"
READ_BACK = {"fgb": "FlatGeobuf", "gpkg": "GPKG"}
MILLISECOND = dt.timedelta(milliseconds=1)


def write_typed(path: Path) -> Path:
    """A GeoJSON of polygons whose properties cover the column types ingest makes, with nulls,
    commas, quotes, newlines and non-ASCII text."""
    features = []
    for n in range(7):
        ring = [
            [106.7 + n / 97, -6.2],
            [106.71 + n / 89, -6.2],
            [106.71 + n / 83, -6.19],
            [106.7 + n / 97, -6.2],
        ]
        properties = {
            "name": None if n == 3 else f'site "{n}", Jl. Sudirman\nGedung ü{n}',
            "visits": n * 1000,
            "depth": n / 3,
            "dry": n % 2 == 0,
            "day": f"2024-0{n + 1}-1{n}",
            "tags": ["a", f"b{n}"] if n != 2 else None,
        }
        geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def publish(api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, **extra: Any) -> str:
    """Upload, submit and approve `file`; returns its release id."""
    upload(api, keys[Role.submitter], file, f"floods/{file.name}")
    submitted = submit(api, keys[Role.submitter], f"floods/{file.name}", resource_id=resource, **extra)
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    return str(submitted.json()["release_id"])


def served_rows(url: str, table: str) -> tuple[str, list[dict[str, Any]]]:
    """The served table's geometry column and rows (geometry as WKB), read directly."""
    with psycopg.connect(url) as conn:
        geometry = conn.execute(
            "SELECT f_geometry_column FROM geometry_columns "
            "WHERE f_table_schema = 'geo' AND f_table_name = %s",
            (table,),
        ).fetchone()[0]  # type: ignore[index]
    with adbc.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(f'SELECT *, ST_AsBinary("{geometry}") AS __wkb FROM geo."{table}" ORDER BY objectid')  # noqa: S608
        rows = cursor.fetch_arrow_table().to_pylist()
    for row in rows:
        row[geometry] = row.pop("__wkb")
    return geometry, rows


def same(expected: Any, actual: Any) -> bool:
    """Whether a value read back from a file is the served value, as the format can carry it:
    CSV as text, lists as JSON text outside Parquet, times of day as text in GDAL's formats."""
    if expected is None:
        return actual in (None, "")
    if isinstance(actual, str) and isinstance(expected, float):
        return float(actual) == expected
    if isinstance(actual, str) and not isinstance(expected, str):
        return _as_text(expected) == actual or (isinstance(expected, list) and json.loads(actual) == expected)
    if isinstance(expected, dt.datetime):
        # GDAL keeps date-times to the millisecond (FlatGeobuf, GeoPackage)
        rounded = actual.microsecond % 1000 == 0 and abs(_utc(expected) - _utc(actual)) <= MILLISECOND / 2
        return isinstance(actual, dt.datetime) and (_utc(expected) == _utc(actual) or rounded)
    if isinstance(expected, dt.date) and isinstance(actual, dt.datetime):
        return actual == dt.datetime.combine(expected, dt.time())
    return bool(expected == actual)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.datetime):
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S.%fZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def read_back(path: Path, format_name: str, geometry: str) -> list[dict[str, Any]]:
    """The rows of an exported file, geometry as WKB under the table's geometry column."""
    if format_name == "parquet":
        rows = pq.read_table(path).to_pylist()
        for row in rows:
            row.pop("bbox")
        return rows
    if format_name == "csv":
        names = pacsv.open_csv(path).schema.names
        text = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        rows = pacsv.read_csv(path, convert_options=text).to_pylist()
        for row in rows:
            wkt = row.pop("WKT")
            row[geometry] = shapely.to_wkb(shapely.from_wkt(wkt)) if wkt else None
        return rows
    meta, table = pyogrio.read_arrow(path)
    assert pyogrio.read_info(path)["driver"] == READ_BACK[format_name] and meta["crs"] == "EPSG:4326"
    rows = table.to_pylist()
    column = meta["geometry_name"] or "wkb_geometry"
    for row in rows:
        row[geometry] = row.pop(column)
    return rows


def assert_same_rows(expected: list[dict[str, Any]], actual: list[dict[str, Any]], geometry: str) -> None:
    assert len(actual) == len(expected)
    actual = sorted(actual, key=lambda row: int(row["objectid"]))
    for want, got in zip(expected, actual, strict=True):
        assert set(got) == set(want), (sorted(got), sorted(want))
        for name, value in want.items():
            if name == geometry:
                assert shapely.equals_exact(shapely.from_wkb(value), shapely.from_wkb(got[name]), 0)
            else:
                assert same(value, got[name]), (name, value, got[name])


def download(api: httpx.Client, url: str, target: Path, **headers: str) -> httpx.Response:
    with api.stream("GET", url, headers=headers) as response:
        with target.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    return response


def test_every_format_reads_back_as_the_served_rows(
    platform_api: httpx.Client, keys: dict[Role, str], databases: RoleUrls, tmp_path: Path
) -> None:
    api = platform_api
    publish(api, keys, write_typed(tmp_path / "typed.geojson"), "typed", access_level="public")
    geometry, expected = served_rows(databases.app, "floods_typed_v1")
    assert any(isinstance(v, list) for v in expected[0].values())  # the tags array made it in
    for format_name in ("parquet", "csv", "fgb", "gpkg"):
        target = tmp_path / f"out.{format_name}"
        url = EXPORT.format(resource="typed", version="v1") + f"?format={format_name}"
        response = download(api, url, target)
        assert response.status_code == 200, target.read_text(errors="replace")
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="floods_typed_v1.{format_name}"'
        length = response.headers.get("content-length")
        assert length is None or int(length) == target.stat().st_size
        assert_same_rows(expected, read_back(target, format_name, geometry), geometry)

    parquet = pq.ParquetFile(tmp_path / "out.parquet")
    assert parquet.schema_arrow.field("bbox").type == pa.struct(
        [(b, pa.float64()) for b in ("xmin", "ymin", "xmax", "ymax")]
    )
    geo = json.loads(parquet.metadata.metadata[b"geo"])
    column = geo["columns"][geo["primary_column"]]
    assert geo["version"] == "1.1.0" and column["encoding"] == "WKB"
    assert column["geometry_types"] == ["MultiPolygon"]
    assert column["covering"] == {"bbox": {b: ["bbox", b] for b in ("xmin", "ymin", "xmax", "ymax")}}
    bounds = shapely.bounds(shapely.from_wkb([row[geometry] for row in expected]))
    assert column["bbox"] == [*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0)]
    boxes = parquet.read(columns=["bbox"]).column("bbox").to_pylist()
    assert [list(box.values()) for box in boxes] == bounds.tolist()


def test_versions_latest_visibility_and_formats(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    publish(api, keys, write_points(tmp_path / "v1.gpkg", 30), "jakarta", access_level="public")
    publish(api, keys, write_points(tmp_path / "v2.gpkg", 45), "jakarta", access_level="public")
    publish(api, keys, write_points(tmp_path / "ouo.gpkg", 12), "internal", access_level="ouo")
    publish(
        api,
        keys,
        write_points(tmp_path / "r.gpkg", 9),
        "secret",
        access_level="restricted",
        granted_roles=["reviewer"],
    )

    def rows(resource: str, version: str, **headers: str) -> int:
        response = download(
            api,
            EXPORT.format(resource=resource, version=version) + "?format=parquet",
            tmp_path / "x",
            **headers,
        )
        assert response.status_code == 200, (resource, version, (tmp_path / "x").read_text(errors="replace"))
        return pq.read_metadata(tmp_path / "x").num_rows

    assert (rows("jakarta", "v1"), rows("jakarta", "v2"), rows("jakarta", "latest")) == (30, 45, 45)
    latest = api.get(EXPORT.format(resource="jakarta", version="LATEST"), params={"format": "gpkg"})
    assert latest.headers["content-disposition"] == 'attachment; filename="floods_jakarta_v2.gpkg"'
    assert latest.headers["content-type"] == "application/geopackage+sqlite3"

    missing = api.get(EXPORT.format(resource="nothing", version="v1"))
    reader, reviewer = bearer(keys[Role.reader]), bearer(keys[Role.reviewer])
    for resource, version, headers in (
        ("internal", "v1", {}),
        ("internal", "latest", {}),
        ("secret", "v1", {}),
        ("secret", "latest", reader),
        ("jakarta", "v3", reader),
    ):
        hidden = api.get(EXPORT.format(resource=resource, version=version), headers=headers)
        assert hidden.status_code == 404 == missing.status_code, (resource, version, hidden.text)
        assert hidden.json()["code"] == missing.json()["code"]
    assert rows("internal", "v1", **reader) == 12
    assert rows("secret", "latest", **reviewer) == 9

    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env |= {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": keys[Role.reader]}
    command = [sys.executable, "-m", "terrace", "export", "floods", "internal", "--format", "gpkg"]
    done = subprocess.run(
        [*command, "--output", str(tmp_path / "cli.gpkg")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert pyogrio.read_info(tmp_path / "cli.gpkg")["features"] == 12
    assert not (tmp_path / "cli.gpkg.part").exists()
    refused = subprocess.run(
        [*command, "--version", "v9", "--output", str(tmp_path / "no.gpkg")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "no version v9" in refused.stdout + refused.stderr

    bad = api.get(EXPORT.format(resource="jakarta", version="v1"), params={"format": "shp"})
    assert bad.status_code == 400
    assert all(name in bad.json()["remediation"] for name in ("parquet", "csv", "fgb", "gpkg"))


def test_a_draft_or_revoked_release_is_not_exported(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, admin = platform_api, bearer(keys[Role.admin])
    release = publish(api, keys, write_points(tmp_path / "v1.gpkg", 5), "jakarta", access_level="public")
    upload(api, keys[Role.submitter], write_points(tmp_path / "v2.gpkg", 6), "floods/v2.gpkg")
    draft = submit(api, keys[Role.submitter], "floods/v2.gpkg")
    wait_done(api, keys[Role.submitter], draft.json()["request_id"])
    assert api.get(EXPORT.format(resource="jakarta", version="latest"), headers=admin).status_code == 200
    revoked = api.post("/api/platform/revoke", json={"release_id": release, "reason": "bad"}, headers=admin)
    assert revoked.status_code == 200, revoked.text
    for version in ("v1", "latest"):
        assert api.get(EXPORT.format(resource="jakarta", version=version), headers=admin).status_code == 404


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def test_a_large_export_streams_in_bounded_memory(
    platform_api: httpx.Client, keys: dict[Role, str], owner_database_url: str, tmp_path: Path
) -> None:
    """400,000 rows exported as CSV by the live API, whose process's peak RSS grows far less than
    the file it sends."""
    rows = 400_000
    publish(platform_api, keys, write_points(tmp_path / "v1.gpkg", 3), "big", access_level="public")
    with psycopg.connect(owner_database_url, autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'geo' AND tablename = 'floods_big_v1' "
            "AND indexname NOT LIKE '%%pkey'"
        ).fetchall()
        for (index,) in indexes:  # faster to fill without them
            conn.execute(psycopg.sql.SQL("DROP INDEX geo.{}").format(psycopg.sql.Identifier(index)))
        conn.execute(
            "INSERT INTO geo.floods_big_v1 (depth, geom) SELECT i / 7.0, "
            "ST_Multi(ST_SetSRID(ST_MakePoint(95 + (i %% 4600) / 100.0, -11 + (i / 4600) / 30.0), 4326)) "
            "FROM generate_series(1, %s) AS i",
            (rows,),
        )
        conn.execute("ANALYZE geo.floods_big_v1")
    url_path = EXPORT.format(resource="big", version="v1") + "?format=csv"
    with platform_api.stream("GET", url_path) as response:  # the first batch warms up what exports use
        assert response.status_code == 200 and next(response.iter_raw())
    # The live API runs in this process (uvicorn in a thread): its peak starts again from now.
    Path("/proc/self/clear_refs").write_text("5")
    before, sent = peak_rss_mb(), 0
    with platform_api.stream("GET", url_path) as response:
        for chunk in response.iter_raw():
            sent += len(chunk)
    grown = peak_rss_mb() - before
    assert sent > 80 * 1024**2 and grown < 64, (sent, grown)
