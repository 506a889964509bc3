"""Real vector files that once crashed the prepare stage load through the real process_vector job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyogrio
import pytest
import shapely
import shapely.affinity
from psycopg.rows import dict_row

from terrace.storage import Storage
from tests.integration.vector.jobs import run

pytestmark = pytest.mark.usefixtures("worker")

NATURAL_EARTH = Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"
# Relative area change allowed for a country: every one is valid and none is drawn across ±180°
# (Fiji, Russia and Antarctica are already cut there), so the bound for valid input holds.
AREA_TOLERANCE = 1e-6


def rows(database_url: str, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(query).fetchall()


def loaded(database_url: str, kind: str) -> dict[str, Any]:
    (row,) = rows(
        database_url,
        "SELECT count(*) AS n, bool_and(ST_IsValid(geom)) AS valid, "
        "array_agg(DISTINCT GeometryType(geom)) AS kinds FROM geo_draft.floods_jakarta_ord1",
    )
    assert row["valid"] is True and row["kinds"] == [kind], row
    return row


def test_world_countries_keep_their_area_and_are_not_smeared(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """Natural Earth's low-resolution countries (public domain), from the test fixtures of the
    installed pyogrio wheel, written as GeoPackage: 177 MultiPolygons across -180..180 with
    Antarctica down to -90 and Fiji and Russia cut at the antimeridian."""
    meta, source = pyogrio.read_arrow(NATURAL_EARTH)
    column = meta["geometry_name"] or "wkb_geometry"
    geoms = shapely.from_wkb(source.column(column).to_numpy(zero_copy_only=False))
    parts, owners = shapely.get_parts(geoms, return_index=True)
    multi = pa.array(shapely.to_wkb(shapely.multipolygons(parts, indices=owners)).tolist(), pa.binary())
    file = tmp_path / "countries.gpkg"
    pyogrio.write_arrow(
        source.set_column(source.schema.get_field_index(column), column, multi),
        file,
        geometry_name=column,
        geometry_type="MultiPolygon",
        crs=meta["crs"],
        layer="countries",
    )
    names = source.column("name").to_pylist()
    bounds = shapely.bounds(geoms)
    job = run(database_url, storage, file)
    assert job["status"] == "completed", job["error"]
    assert loaded(database_url, "MULTIPOLYGON")["n"] == 177
    assert job["result"]["warnings"] == []  # nothing repaired, cut or dropped
    out = {
        r["name"]: r
        for r in rows(
            database_url,
            "SELECT name, ST_Area(geom) AS area, ST_XMax(geom) - ST_XMin(geom) AS width "
            "FROM geo_draft.floods_jakarta_ord1",
        )
    }
    for name, geom, box in zip(names, geoms, bounds, strict=True):
        area = shapely.area(shapely.make_valid(geom))
        assert out[name]["area"] == pytest.approx(area, rel=AREA_TOLERANCE), name
        assert out[name]["width"] <= max(180.0, box[2] - box[0]), name


@pytest.mark.parametrize("ids", [[7, 8, 9, 10], ["a", "b", "c", "d"]], ids=["numeric", "string"])
def test_geojson_points_with_feature_ids(
    database_url: str, storage: Storage, tmp_path: Path, ids: list[Any]
) -> None:
    """Features carrying an `id` member, which GDAL makes the FID (numbers) or a field (strings)."""
    file = tmp_path / "points.geojson"
    features = [
        {
            "type": "Feature",
            "id": i,
            "properties": {"name": f"p{k}"},
            "geometry": {"type": "Point", "coordinates": [106.8 + k / 100, -6.2]},
        }
        for k, i in enumerate(ids)
    ]
    file.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    job = run(database_url, storage, file)
    assert job["status"] == "completed", job["error"]
    assert loaded(database_url, "MULTIPOINT")["n"] == len(ids)


def test_utm_shapefile_declared_polygon_with_multipart_records(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """A layer declared Polygon in EPSG:32748 whose records are partly MultiPolygons (as census
    tracts with islands are)."""
    squares = [shapely.box(700000 + 1000 * k, 9300000, 700800 + 1000 * k, 9300800) for k in range(6)]
    geoms = np.array(
        [
            shapely.MultiPolygon([s, shapely.affinity.translate(s, yoff=2000)]) if k % 2 else s
            for k, s in enumerate(squares)
        ],
        dtype=object,
    )
    # a second part with a spike: make_valid gives GEOMETRYCOLLECTION(MULTIPOLYGON, LINESTRING)
    spike = shapely.Polygon(
        [
            (705000, 9306000),
            (705500, 9306000),
            (705500, 9306500),
            (705500, 9307000),
            (705500, 9306500),
            (705000, 9306500),
            (705000, 9306000),
        ]
    )
    geoms[4] = shapely.MultiPolygon([geoms[4], spike])
    file = tmp_path / "tracts.shp"
    pyogrio.write_arrow(
        pa.table({"tract": [f"t{k}" for k in range(6)], "geometry": shapely.to_wkb(geoms)}),
        file,
        geometry_name="geometry",
        geometry_type="Polygon",
        crs="EPSG:32748",
    )
    job = run(database_url, storage, file)
    assert job["status"] == "completed", job["error"]
    assert loaded(database_url, "MULTIPOLYGON")["n"] == 6
    assert {w["code"]: w["count"] for w in job["result"]["warnings"]} == {"GEOMETRY_REPAIRED": 1}
    (row,) = rows(
        database_url,
        "SELECT ST_NumGeometries(geom) AS parts FROM geo_draft.floods_jakarta_ord1 WHERE tract = 't4'",
    )
    assert row == {"parts": 2}
