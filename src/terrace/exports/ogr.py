"""FlatGeobuf and GeoPackage through GDAL (pyogrio): the batches stream into a temporary file,
which is then streamed out.

GDAL takes the Arrow stream batch by batch (`write_arrow`), so memory holds one batch. A
GeoPackage is a SQLite database, and GDAL completes a FlatGeobuf's header only when it closes
the file, so neither can be sent before it is whole; the file is unlinked as soon as it is open
for reading, so the disk space returns when the response ends, however it ends.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyogrio
from psycopg import sql

from terrace.exports.source import ServedTable

CHUNK_BYTES = 1024 * 1024


def select(table: ServedTable) -> list[sql.Composable]:
    """Columns as they are, the geometry as ISO WKB."""
    return [
        sql.SQL("ST_AsBinary({0}) AS {0}").format(sql.Identifier(column.name))
        if column.name == table.geometry
        else sql.Identifier(column.name)
        for column in table.columns
    ]


def write_file(
    batches: pa.RecordBatchReader, table: ServedTable, driver: str, options: dict[str, str]
) -> tuple[BinaryIO, int]:
    """The written file, open for reading and already unlinked, and its size."""
    suffix = ".fgb" if driver == "FlatGeobuf" else ".gpkg"
    folder = tempfile.mkdtemp(prefix="terrace-export-")
    path = os.path.join(folder, table.name + suffix)
    try:
        pyogrio.write_arrow(
            batches,
            path,
            layer=table.name,
            driver=driver,
            geometry_name=table.geometry,
            geometry_type=table.kind or "Unknown",
            crs=f"EPSG:{table.srid}",
            layer_options=options,
        )
        stream = open(path, "rb")  # closed by `chunks`
        return stream, os.fstat(stream.fileno()).st_size
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk
