"""Source columns → safe lowercase PostgreSQL identifiers with faithfully mapped types.

The type mapping (GDAL field type as its Arrow stream gives it → column type; `pg_type`,
`as_column_type`), as `ogr2ogr -f PostgreSQL` maps it:

| Arrow (GDAL field type)                           | column                                     |
|---------------------------------------------------|--------------------------------------------|
| bool (Integer/Boolean)                            | boolean                                    |
| int8, int16 (Integer/Int16)                       | smallint                                   |
| uint8, int32, uint16 (Integer)                    | integer                                    |
| int64, uint32 (Integer64)                         | bigint                                     |
| uint64, decimal                                   | numeric                                    |
| float16, float32 (Real/Float32), float64 (Real)   | double precision; float32 by its shortest  |
|                                                   | decimal, so 0.1 stays 0.1                  |
| string (String)                                   | text                                       |
| arrow.json (String/JSON: objects, arrays, fields | text, as GDAL reads it (not always JSON: a  |
| of mixed types)                                   | GeoJSON field of strings and numbers)      |
| binary (Binary)                                   | bytea                                      |
| date (Date)                                       | date                                       |
| time (Time)                                       | time                                       |
| timestamp (DateTime)                              | timestamptz; without a zone taken as UTC,  |
|                                                   | outside years 1..9999 null                 |
| list of bool, integers, floats or strings         | an array of the element's column type,     |
| (IntegerList, Integer64List, RealList, StringList)| e.g. integer[]                             |

Any other type (structs, nested lists, maps) has no faithful column: it is dropped with a
COLUMN_UNSUPPORTED_TYPE warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pyarrow as pa

from terrace.errors import InvalidInput
from terrace.ingest.release import JobWarning
from terrace.ingest.vector.sources import GEOMETRY

MAX_NAME = 59  # leaves room for a _NN suffix within PostgreSQL's 63
MAX_COLUMNS = 1500  # PostgreSQL allows 1600, minus the standard columns
MAX_FIXED_ROW_BYTES = 7800  # a row must fit a page (8160 bytes) with its geometry pointer and header
FIXED_WIDTH = {
    "boolean": 1,
    "smallint": 2,
    "integer": 4,
    "date": 4,
    "bigint": 8,
    "double precision": 8,
    "timestamptz": 8,
    "time": 8,
}
STANDARD_COLUMNS = (
    "objectid",
    "geom",
    "shape",
    "created_at",
    "updated_at",
    "source_file",
    "source_format",
    "source_crs",
    "stac_item_id",
    "stac_collection_id",
    "etl_job_id",
    "etl_batch_id",
)
RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric both case cast check collate column constraint
    create current_catalog current_date current_role current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign from grant group having in initially
    intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing
    primary references returning select session_user some symmetric table then to trailing true union
    unique user using variadic when where window with
""".split()
)


COLUMN_TYPES = {
    "boolean": pa.bool_(),
    "bytea": pa.binary(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "double precision": pa.float64(),
    "text": pa.string(),
    "date": pa.date32(),
    "time": pa.time64("us"),
}


@dataclass(frozen=True)
class Column:
    source: str
    name: str
    pg_type: str


# element types of the array columns lists become
ARRAY_ELEMENTS = frozenset({"boolean", "smallint", "integer", "bigint", "double precision", "text"})


def pg_type(arrow: pa.DataType) -> str | None:
    """The PostgreSQL type for an Arrow type, or None when it has no faithful column type."""
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow) or pa.types.is_fixed_size_list(arrow):
        element = pg_type(arrow.value_type)
        return f"{element}[]" if element in ARRAY_ELEMENTS else None
    if isinstance(arrow, pa.JsonType):
        return "text"
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow) or pa.types.is_fixed_size_binary(arrow):
        return "bytea"
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_int8(arrow) or pa.types.is_int16(arrow) or pa.types.is_uint8(arrow):
        return "smallint" if not pa.types.is_uint8(arrow) else "integer"
    if pa.types.is_int32(arrow) or pa.types.is_uint16(arrow):
        return "integer"
    if pa.types.is_int64(arrow) or pa.types.is_uint32(arrow):
        return "bigint"
    if pa.types.is_uint64(arrow):
        return "numeric"
    if pa.types.is_floating(arrow):
        return "double precision"
    if pa.types.is_decimal(arrow):
        return "numeric"
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "text"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "timestamptz"
    if pa.types.is_time(arrow):
        return "time"
    return None


def as_column_type(array: pa.Array | pa.ChunkedArray, pg: str) -> pa.Array | pa.ChunkedArray:
    """`array` in the Arrow type whose binary COPY form is that of PostgreSQL type `pg`.

    A float32 goes through its shortest decimal text, so 0.1 stays 0.1 in double precision.
    Timestamps without a zone are taken as UTC. A list becomes an array of its elements' type.
    """
    if pg.endswith("[]"):
        element = pg.removesuffix("[]")
        if element == "double precision" and pa.types.is_float32(array.type.value_type):
            return array.cast(pa.list_(pa.string())).cast(pa.list_(pa.float64()))
        return array.cast(pa.list_(COLUMN_TYPES[element]))
    if pg == "double precision" and pa.types.is_float32(array.type):
        return array.cast(pa.string()).cast(pa.float64())
    if pg == "timestamptz":
        return array.cast(pa.timestamp("us", tz=array.type.tz or "UTC"))
    if pg == "numeric":
        return array if pa.types.is_decimal(array.type) else array.cast(pa.decimal128(20, 0))
    return array.cast(COLUMN_TYPES[pg])


def sanitize(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    clean = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", ascii_name.lower())).strip("_") or "column"
    if clean[0].isdigit():
        clean = f"c_{clean}"
    clean = clean[:MAX_NAME].rstrip("_")
    return f"{clean}_" if clean in RESERVED or clean in STANDARD_COLUMNS else clean


def plan_columns(schema: pa.Schema, file: str) -> tuple[list[Column], list[JobWarning]]:
    """The columns to create from the layer of `file` (a name for messages), and warnings for
    renamed or unsupported ones."""
    columns: list[Column] = []
    used: set[str] = set()
    renamed, unsupported = [], []
    for field in schema:
        if field.name == GEOMETRY:
            continue
        kind = pg_type(field.type)
        if kind is None:
            unsupported.append(f"{field.name} ({field.type})")
            continue
        name = base = sanitize(field.name)
        suffix = 2
        while name in used:
            name, suffix = f"{base}_{suffix}", suffix + 1
        used.add(name)
        if name != field.name:
            renamed.append(f"{field.name} → {name}")
        columns.append(Column(field.name, name, kind))
    if len(columns) > MAX_COLUMNS:
        raise InvalidInput(
            f"{file} has {len(columns)} attribute columns; at most {MAX_COLUMNS} fit a table.",
            "Drop or merge columns before uploading.",
        )
    width = sum(FIXED_WIDTH.get(c.pg_type, 0) for c in columns)
    if width > MAX_FIXED_ROW_BYTES:
        raise InvalidInput(
            f"The fixed-width columns of {file} need {width} bytes per row; a PostgreSQL row "
            f"holds about {MAX_FIXED_ROW_BYTES}.",
            "Drop columns, or split the file by columns.",
        )
    warnings = []
    if renamed:
        warnings.append(
            JobWarning(code="COLUMN_RENAMED", count=len(renamed), message="; ".join(renamed[:50]))
        )
    if unsupported:
        warnings.append(
            JobWarning(
                code="COLUMN_UNSUPPORTED_TYPE",
                count=len(unsupported),
                message="dropped: " + "; ".join(unsupported[:50]),
            )
        )
    return columns, warnings
