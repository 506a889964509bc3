"""Exports of served vector tables as files, streamed: GeoParquet, CSV, FlatGeobuf, GeoPackage.

The table is read page by page in one snapshot (`source`); GeoParquet and CSV are written and
handed on batch by batch (`geoparquet`, `delimited`); FlatGeobuf and GeoPackage are written by
GDAL into a temporary file that is then streamed (`ogr`). Memory holds one page either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from terrace.errors import InvalidInput
from terrace.exports import delimited, geoparquet, ogr
from terrace.exports.source import ServedTable, describe, read_batches


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str


FORMATS = {
    f.name: f
    for f in (
        Format("parquet", "parquet", "application/vnd.apache.parquet"),
        Format("csv", "csv", "text/csv; charset=utf-8"),
        Format("fgb", "fgb", "application/flatgeobuf"),
        Format("gpkg", "gpkg", "application/geopackage+sqlite3"),
    )
}


@dataclass(frozen=True)
class Body:
    """The bytes of an export, and their number when known before the first is sent."""

    chunks: Iterator[bytes]
    length: int | None


def export_format(name: str) -> Format:
    """The format called `name`; InvalidInput naming the formats otherwise."""
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise InvalidInput(
            f"Unknown export format {name[:40]!r}.",
            f"Ask for one of: {', '.join(FORMATS)} (?format=parquet).",
        )
    return found


def export_table(url: str, table: ServedTable, chosen: Format) -> Body:
    """Start exporting the table, read through `url` (the serving role), in `chosen` format."""
    if chosen.name == "parquet":
        return Body(geoparquet.write(read_batches(url, table, geoparquet.select), table), None)
    if chosen.name == "csv":
        return Body(delimited.write(read_batches(url, table, delimited.select)), None)
    driver, options = ("FlatGeobuf", {"SPATIAL_INDEX": "NO"}) if chosen.name == "fgb" else ("GPKG", {})
    stream, size = ogr.write_file(read_batches(url, table, ogr.select), table, driver, options)
    return Body(ogr.chunks(stream), size)


__all__ = ["FORMATS", "Body", "Format", "ServedTable", "describe", "export_format", "export_table"]
