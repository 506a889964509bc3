"""Source columns become safe PostgreSQL columns of faithful types, and values keep their meaning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from terrace.errors import InvalidInput
from terrace.ingest.vector.columns import MAX_COLUMNS, Column, as_column_type, pg_type, plan_columns, sanitize
from terrace.ingest.vector.sources import GEOMETRY

TYPES = [
    (pa.bool_(), "boolean"),
    (pa.int8(), "smallint"),
    (pa.int16(), "smallint"),
    (pa.uint8(), "integer"),
    (pa.int32(), "integer"),
    (pa.uint16(), "integer"),
    (pa.int64(), "bigint"),
    (pa.uint32(), "bigint"),
    (pa.uint64(), "numeric"),
    (pa.float16(), "double precision"),
    (pa.float32(), "double precision"),
    (pa.float64(), "double precision"),
    (pa.decimal128(12, 3), "numeric"),
    (pa.string(), "text"),
    (pa.large_string(), "text"),
    (pa.date32(), "date"),
    (pa.date64(), "date"),
    (pa.timestamp("ms"), "timestamptz"),
    (pa.timestamp("us", tz="Asia/Jakarta"), "timestamptz"),
    (pa.time32("s"), "time"),
    (pa.time64("us"), "time"),
    (pa.binary(), "bytea"),
    (pa.large_binary(), "bytea"),
    (pa.json_(), "text"),
    (pa.list_(pa.int32()), "integer[]"),
    (pa.list_(pa.int64()), "bigint[]"),
    (pa.list_(pa.float64()), "double precision[]"),
    (pa.list_(pa.string()), "text[]"),
    (pa.list_(pa.bool_()), "boolean[]"),
]


@pytest.mark.parametrize(("arrow", "expected"), TYPES, ids=[str(t) for t, _ in TYPES])
def test_each_arrow_type_has_its_column_type(arrow: pa.DataType, expected: str) -> None:
    assert pg_type(arrow) == expected


@pytest.mark.parametrize(
    "arrow",
    [pa.list_(pa.list_(pa.int32())), pa.list_(pa.date32()), pa.struct([("a", pa.int8())]), pa.null()],
)
def test_types_without_a_faithful_column_have_none(arrow: pa.DataType) -> None:
    assert pg_type(arrow) is None


@pytest.mark.parametrize(
    ("values", "arrow"),
    [
        ([True, None], pa.bool_()),
        ([-128, 127, None], pa.int8()),
        ([255, None], pa.uint8()),
        ([2**31 - 1, None], pa.int32()),
        ([2**32 - 1, None], pa.uint32()),
        ([2**63 - 1, None], pa.int64()),
        (["jalan", None], pa.large_string()),
        ([dt.date(1, 1, 1), dt.date(9999, 12, 31), None], pa.date32()),
        ([dt.time(23, 59, 59, 999999), None], pa.time64("us")),
        ([b"\x00\xff", b"", None], pa.binary()),
        ([[1, None], [], None], pa.list_(pa.int32())),
        ([["a", "b"], None], pa.list_(pa.string())),
    ],
)
def test_values_keep_their_meaning_in_the_column_type(values: list[object], arrow: pa.DataType) -> None:
    column = as_column_type(pa.array(values, arrow), pg_type(arrow) or "")
    assert column.to_pylist() == values


def test_a_float32_keeps_its_shortest_decimal() -> None:
    column = as_column_type(pa.array([0.1, 1e-7, None], pa.float32()), "double precision")
    assert column.type == pa.float64() and column.to_pylist() == [0.1, 1e-7, None]


def test_json_keeps_its_text_and_float32_lists_their_shortest_decimals() -> None:
    # GDAL's JSON subtype also holds GeoJSON fields of mixed types, whose strings are no JSON
    text = as_column_type(pa.array(['{ "k": [1, 2] }', "06-07-2002", None], pa.json_()), "text")
    assert text.type == pa.string() and text.to_pylist() == ['{ "k": [1, 2] }', "06-07-2002", None]
    reals = as_column_type(pa.array([[0.1, None]], pa.list_(pa.float32())), "double precision[]")
    assert reals.to_pylist() == [[0.1, None]]


def test_the_largest_unsigned_integer_fits_numeric() -> None:
    column = as_column_type(pa.array([2**64 - 1, 0], pa.uint64()), "numeric")
    assert column.to_pylist() == [Decimal(2**64 - 1), Decimal(0)]


def test_timestamps_without_a_zone_are_utc_and_zones_are_kept() -> None:
    naive = as_column_type(pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("s")), "timestamptz")
    assert naive.type == pa.timestamp("us", tz="UTC")
    assert naive.to_pylist() == [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)]
    zoned = as_column_type(pa.array([0], pa.timestamp("ms", tz="Asia/Jakarta")), "timestamptz")
    assert zoned.type == pa.timestamp("us", tz="Asia/Jakarta")


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("Name", "name"),
        ("Jalan Raya", "jalan_raya"),
        ("Straße", "strae"),
        ("Émission CO₂ (t)", "emission_co2_t"),
        ("2020", "c_2020"),
        ("__", "column_"),  # "column" itself is reserved
        ("select", "select_"),
        ("objectid", "objectid_"),
        ("GEOM", "geom_"),
        ("a" * 80, "a" * 59),
    ],
)
def test_names_become_safe_identifiers(source: str, name: str) -> None:
    assert sanitize(source) == name


def test_columns_are_planned_renamed_and_unsupported_ones_dropped() -> None:
    schema = pa.schema(
        [
            ("Name", pa.string()),
            ("name", pa.string()),
            ("NAME", pa.int32()),
            ("blob", pa.struct([("a", pa.int8())])),
            (GEOMETRY, pa.binary()),
        ]
    )
    columns, warnings = plan_columns(schema, "zones.gpkg")
    assert columns == [
        Column("Name", "name", "text"),
        Column("name", "name_2", "text"),
        Column("NAME", "name_3", "integer"),
    ]
    assert [w.model_dump() for w in warnings] == [
        {"code": "COLUMN_RENAMED", "count": 3, "message": "Name → name; name → name_2; NAME → name_3"},
        {"code": "COLUMN_UNSUPPORTED_TYPE", "count": 1, "message": "dropped: blob (struct<a: int8>)"},
    ]


def test_a_layer_too_wide_for_a_table_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"zones.gpkg has {MAX_COLUMNS + 1} .* at most {MAX_COLUMNS}"):
        plan_columns(pa.schema([(f"c{i}", pa.string()) for i in range(MAX_COLUMNS + 1)]), "zones.gpkg")
    with pytest.raises(InvalidInput, match="fixed-width columns of zones.gpkg need 8000 bytes"):
        plan_columns(pa.schema([(f"c{i}", pa.int64()) for i in range(1000)]), "zones.gpkg")
