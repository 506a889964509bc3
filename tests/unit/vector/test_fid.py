"""The FID column of GDAL's Arrow stream is found whatever the layer calls it."""

from __future__ import annotations

import pyarrow as pa

from terrace.ingest.vector.sources import _fid_index

SCHEMA = pa.schema([("OGC_FID", pa.int64()), ("id", pa.string()), ("geometry", pa.binary())])


def test_the_layer_fid_column_then_ogc_fid_then_the_first_column() -> None:
    assert _fid_index(SCHEMA, "id") == 1
    assert _fid_index(SCHEMA, "") == 0
    assert _fid_index(SCHEMA.remove(0).insert(0, pa.field("fid", pa.int64())), "gdal_fid") == 0
