"""process_vector through CoreMachine with a real worker: every format, and the bad-input list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pytest
import shapely
from psycopg.rows import dict_row

from terrace.storage import Storage
from tests.integration.vector.files import polygons, write
from tests.integration.vector.jobs import run

pytestmark = pytest.mark.usefixtures("worker")


def tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'geo_draft' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def one(database_url: str, query: str) -> Any:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(query).fetchone()


def warnings(job: dict[str, Any]) -> dict[str, int]:
    return {w["code"]: w["count"] for w in job["result"]["warnings"]}


def failed_with(job: dict[str, Any], text: str) -> None:
    assert job["status"] == "failed", job["result"]
    assert text in job["error"]["message"], job["error"]
    assert job["error"]["user_fixable"] is True and job["error"]["remediation"]


@pytest.mark.parametrize(
    "suffix", [".gpkg", ".geojson", ".fgb", ".gml", ".kml", ".shp", ".zip", ".parquet", ".csv"]
)
def test_every_format_loads_as_clean_multi_geometry(
    database_url: str, storage: Storage, tmp_path: Path, suffix: str
) -> None:
    job = run(database_url, storage, write(tmp_path / f"zones{suffix}", polygons(25)))
    assert job["status"] == "completed", job["error"]
    (table,) = job["result"]["tables"]
    assert table == {
        "table_name": "floods_jakarta_ord1",
        "schema_name": "geo_draft",
        "geometry_type": "MULTIPOLYGON",
        "feature_count": 25,
        "table_role": "primary",
        "table_suffix": "",
    }
    row = one(
        database_url,
        "SELECT count(*) AS n, min(ST_SRID(geom)) AS srid, min(GeometryType(geom)) AS kind, "
        "bool_and(ST_IsValid(geom)) AS valid FROM geo_draft.floods_jakarta_ord1",
    )
    assert row == {"n": 25, "srid": 4326, "kind": "MULTIPOLYGON", "valid": True}
    assert one(database_url, "SELECT count(*) AS n FROM geo.table_catalog")["n"] == 1
    assert one(database_url, "SELECT feature_count FROM app.vector_etl_tracking")["feature_count"] == 25
    if suffix not in (".kml",):
        names = one(
            database_url,
            "SELECT count(DISTINCT name) AS n, bool_or(name = 'zone 0') AS first, "
            "sum(households) > 0 AS counted FROM geo_draft.floods_jakarta_ord1",
        )
        assert names == {"n": 25, "first": True, "counted": True}


def test_shapefile_without_prj_needs_the_crs_option(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    file = write(tmp_path / "zones.shp", polygons(5), crs=None)
    failed_with(run(database_url, storage, file), "no coordinate reference system")
    assert run(database_url, storage, file, ordinal=2, crs="EPSG:4326")["status"] == "completed"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.gpkg", b"", "is empty"),
        ("broken.gpkg", b"SQLite format 3\x00" + bytes(200), "cannot be"),
        ("nothing.geojson", b'{"type": "FeatureCollection", "features": []}', "has no features"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message(
    database_url: str, storage: Storage, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    failed_with(run(database_url, storage, tmp_path / name), message)
    assert tables(database_url) == []


def test_a_zip_without_a_shapefile_is_refused(database_url: str, storage: Storage, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    failed_with(run(database_url, storage, tmp_path / "data.zip"), "contains no .shp")


def test_an_unknown_crs_is_refused(database_url: str, storage: Storage, tmp_path: Path) -> None:
    file = write(tmp_path / "zones.shp", polygons(5), crs=None)
    failed_with(run(database_url, storage, file, crs="EPSG:999999"), "unknown coordinate reference system")


def geojson(path: Path, geometries: list[Any], properties: list[dict[str, Any]] | None = None) -> Path:
    props = properties or [{"n": i} for i in range(len(geometries))]
    features = [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in zip(props, geometries, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_all_null_geometries_are_an_error(database_url: str, storage: Storage, tmp_path: Path) -> None:
    failed_with(
        run(database_url, storage, geojson(tmp_path / "nulls.geojson", [None, None])),
        "null or empty geometries",
    )


def test_repairs_are_counted_and_reported(database_url: str, storage: Storage, tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}  # clockwise
    job = run(database_url, storage, geojson(tmp_path / "z.geojson", [bowtie, square, None]))
    assert job["status"] == "completed", job["error"]
    assert warnings(job) == {"GEOMETRY_REPAIRED": 1, "NULL_GEOMETRY_DROPPED": 1}
    report = storage.get("silver", job["result"]["outputs"]["repair_report"]["path"]).decode().splitlines()
    assert report == ["source_fid,reason", "2,NULL_GEOMETRY_DROPPED", "0,GEOMETRY_REPAIRED"]
    ccw = one(
        database_url, "SELECT bool_and(ST_IsPolygonCCW(geom)) AS ccw FROM geo_draft.floods_jakarta_ord1"
    )
    assert ccw == {"ccw": True}


def test_z_is_dropped_unless_kept(database_url: str, storage: Storage, tmp_path: Path) -> None:
    line = {"type": "LineString", "coordinates": [[0, 0, 5], [1, 1, 6]]}
    job = run(database_url, storage, geojson(tmp_path / "l.geojson", [line]))
    assert warnings(job) == {"Z_DROPPED": 1}
    assert one(database_url, "SELECT ST_NDims(geom) AS d FROM geo_draft.floods_jakarta_ord1") == {"d": 2}
    kept = run(database_url, storage, geojson(tmp_path / "k.geojson", [line]), ordinal=2, keep_z=True)
    assert (
        kept["status"] == "completed"
        and one(database_url, "SELECT ST_NDims(geom) AS d FROM geo_draft.floods_jakarta_ord2")["d"] == 3
    )


def test_mixed_types_split_into_tables_or_are_refused(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    shapes = [
        {"type": "Point", "coordinates": [1, 1]},
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [2, 2]}]},
        {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Point", "coordinates": [2, 2]},
                {"type": "LineString", "coordinates": [[0, 0], [1, 2]]},
            ],
        },
    ]
    file = geojson(tmp_path / "mixed.geojson", shapes)
    refused = run(database_url, storage, file, geometry_split=False)
    failed_with(refused, "mixes geometry types")
    job = run(database_url, storage, file, ordinal=2)
    # the point-and-line collection is a row of each table, with its attributes
    assert sorted((t["table_suffix"], t["feature_count"]) for t in job["result"]["tables"]) == [
        ("_line", 2),
        ("_point", 3),
        ("_polygon", 1),
    ]
    assert warnings(job) == {"COLLECTION_CONVERTED": 1, "MIXED_COLLECTION_SPLIT": 1}
    assert tables(database_url) == [
        "floods_jakarta_ord2_line",
        "floods_jakarta_ord2_point",
        "floods_jakarta_ord2_polygon",
    ]


def test_csv_without_coordinates_is_refused(database_url: str, storage: Storage, tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_text("name,value\na,1\nb,2\n")
    failed_with(run(database_url, storage, tmp_path / "plain.csv"), "no geometry column")


def test_csv_with_named_coordinate_columns(database_url: str, storage: Storage, tmp_path: Path) -> None:
    (tmp_path / "gauges.csv").write_text("station,northing,easting\na,-6.2,106.8\nb,-6.1,106.9\n")
    job = run(database_url, storage, tmp_path / "gauges.csv", lat_column="northing", lon_column="easting")
    assert job["status"] == "completed", job["error"]
    assert job["result"]["tables"][0]["geometry_type"] == "MULTIPOINT"


def test_awkward_column_names_become_safe_identifiers(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    awkward = {
        "Flood Depth (m)": 1.5,
        "Größe": 2,
        "select": "x",
        "flood-depth-m": 3.0,
        "x" * 80: 4,
        "geom": "clash",
        "objectid": 7,
    }
    point = {"type": "Point", "coordinates": [1, 1]}
    job = run(database_url, storage, geojson(tmp_path / "a.geojson", [point], [awkward]))
    assert job["status"] == "completed", job["error"]
    with psycopg.connect(database_url) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE "
                "table_name = 'floods_jakarta_ord1' ORDER BY ordinal_position"
            )
        ]
    assert columns[:8] == [
        "objectid",
        "flood_depth_m",
        "groe",
        "select_",
        "flood_depth_m_2",
        "x" * 59,
        "geom_",
        "objectid_",
    ]
    assert all(len(c) <= 63 for c in columns)
    assert warnings(job)["COLUMN_RENAMED"] == 7


def test_a_thousand_columns(database_url: str, storage: Storage, tmp_path: Path) -> None:
    base = polygons(3)
    wide = pa.table(
        {**{f"c{i}": np.arange(3, dtype=np.int32) for i in range(1100)}, "geometry": base.column("geometry")}
    )
    job = run(database_url, storage, write(tmp_path / "wide.parquet", wide))
    assert job["status"] == "completed", job["error"]
    assert (
        one(database_url, "SELECT c1099 FROM geo_draft.floods_jakarta_ord1 ORDER BY objectid")["c1099"] == 0
    )


def test_rows_too_wide_for_postgresql_are_refused_before_loading(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    wide = pa.table(
        {**{f"c{i}": np.arange(3) for i in range(1100)}, "geometry": polygons(3).column("geometry")}
    )
    failed_with(run(database_url, storage, write(tmp_path / "wide.parquet", wide)), "bytes per row")
    assert tables(database_url) == []


def test_out_of_range_datetimes_become_null(database_url: str, storage: Storage, tmp_path: Path) -> None:
    base = polygons(2)
    when = pa.array([0, 400_000_000_000], pa.timestamp("s"))  # 1970 and the year 14645
    job = run(database_url, storage, write(tmp_path / "t.parquet", base.append_column("seen", when)))
    assert warnings(job)["DATETIME_COERCED"] == 1
    seen = one(database_url, "SELECT count(seen) AS n FROM geo_draft.floods_jakarta_ord1")
    assert seen == {"n": 1}


def test_an_existing_table_is_never_overwritten(database_url: str, storage: Storage, tmp_path: Path) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE geo_draft.floods_jakarta_ord1 (id int)")
    failed_with(run(database_url, storage, write(tmp_path / "z.gpkg", polygons(3))), "already exists")
    assert tables(database_url) == ["floods_jakarta_ord1"]


def test_a_failure_after_loading_leaves_no_table(database_url: str, storage: Storage, tmp_path: Path) -> None:
    many = polygons(30).append_column("kind", pa.array([f"k{i}" for i in range(30)]))
    job = run(database_url, storage, write(tmp_path / "z.gpkg", many), split_column="kind")
    failed_with(job, "more than 20 values")
    assert tables(database_url) == []


def test_split_column_makes_views(database_url: str, storage: Storage, tmp_path: Path) -> None:
    kinds = polygons(6).append_column("kind", pa.array(["river", "coast"] * 3))
    job = run(database_url, storage, write(tmp_path / "z.gpkg", kinds), split_column="kind")
    views = sorted(
        (t["table_name"], t["feature_count"]) for t in job["result"]["tables"] if t["table_role"] == "view"
    )
    assert views == [("floods_jakarta_ord1_coast", 3), ("floods_jakarta_ord1_river", 3)]


def test_chunks_load_in_parallel_tasks_without_duplicates(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, write(tmp_path / "z.gpkg", polygons(1000)), chunk_size=150)
    assert job["status"] == "completed", job["error"]
    with psycopg.connect(database_url) as conn:
        loads = conn.execute("SELECT count(*) FROM app.tasks WHERE stage = 4").fetchone()[0]
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT etl_batch_id) FROM geo_draft.floods_jakarta_ord1"
        )
        assert loads == 7 and rows.fetchone() == (1000, 7)
    assert shapely.__version__


@pytest.mark.parametrize(
    ("suffix", "first_fid", "expected_parts"),
    [(".gpkg", 1, 4), (".shp", 0, 4), (".parquet", 0, 4), (".geojson", 0, 1), (".zip", 0, 1)],
)
def test_a_file_is_prepared_in_parallel_parts_and_numbered_once(
    database_url: str, storage: Storage, tmp_path: Path, suffix: str, first_fid: int, expected_parts: int
) -> None:
    table = polygons(400)
    shapes = table.column("geometry").to_pylist()
    shapes[10] = shapes[300] = None
    table = table.set_column(3, "geometry", pa.array(shapes, pa.binary()))
    job = run(
        database_url, storage, write(tmp_path / f"z{suffix}", table, row_group_size=100), chunk_size=100
    )
    assert job["status"] == "completed", job["error"]
    with psycopg.connect(database_url) as conn:
        parts = conn.execute("SELECT count(*) FROM app.tasks WHERE stage = 2").fetchone()[0]
        loads = conn.execute("SELECT count(*) FROM app.tasks WHERE stage = 4").fetchone()[0]
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT name), min(objectid), max(objectid) "
            "FROM geo_draft.floods_jakarta_ord1"
        ).fetchone()
    assert (parts, loads, rows) == (expected_parts, 4, (398, 398, 1, 398))
    with psycopg.connect(database_url) as conn:
        added = conn.execute(
            "INSERT INTO geo_draft.floods_jakarta_ord1 (name, geom) VALUES "
            "('new', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326))) "
            "RETURNING objectid, source_format IS NOT NULL, created_at IS NOT NULL"
        ).fetchone()
        table = conn.execute(
            "SELECT c.reloptions, array_agg(i.indexrelid::regclass::text ORDER BY 1) "
            "FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid "
            "WHERE c.oid = 'geo_draft.floods_jakarta_ord1'::regclass GROUP BY 1"
        ).fetchone()
    assert added == (399, True, True)
    assert table[0] is None and len(table[1]) == 3
    report = storage.get("silver", job["result"]["outputs"]["repair_report"]["path"]).decode().splitlines()
    assert report == [
        "source_fid,reason",
        f"{10 + first_fid},NULL_GEOMETRY_DROPPED",
        f"{300 + first_fid},NULL_GEOMETRY_DROPPED",
    ]
