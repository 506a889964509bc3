"""Vector files of every supported format, generated into a folder (seeded, small)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pyogrio
import shapely

DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".gml": "GML",
    ".kml": "KML",
    ".shp": "ESRI Shapefile",
}


def polygons(count: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(106.7, 106.9, count), rng.uniform(-6.3, -6.1, count)
    shapes = shapely.buffer(shapely.points(x, y), 0.001, quad_segs=2)
    return pa.table(
        {
            "name": [f"zone {i}" for i in range(count)],
            "depth": rng.uniform(0, 3, count),
            "households": rng.integers(0, 500, count),
            "geometry": shapely.to_wkb(shapes),
        }
    )


def write(
    path: Path,
    table: pa.Table,
    geometry_type: str = "Polygon",
    crs: str | None = "EPSG:4326",
    row_group_size: int | None = None,
) -> Path:
    """Write `table` (WKB in `geometry`) in the format of path's extension; GeoParquet in row groups
    of `row_group_size` rows, if given."""
    suffix = path.suffix.lower()
    if suffix in DRIVERS:
        pyogrio.write_arrow(
            table,
            path,
            driver=DRIVERS[suffix],
            geometry_name="geometry",
            geometry_type=geometry_type,
            crs=crs,
        )
    elif suffix == ".zip":
        shp = write(path.with_suffix(".shp"), table, geometry_type, crs)
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp.parent.glob(shp.stem + ".*"):
                if part.suffix != ".zip":
                    archive.write(part, part.name)
    elif suffix == ".parquet":
        geo = {
            "version": "1.1.0",
            "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": [geometry_type]}},
        }
        pq.write_table(
            table.replace_schema_metadata({"geo": json.dumps(geo)}), path, row_group_size=row_group_size
        )
    elif suffix == ".csv":
        shapes = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
        wkt = table.drop_columns(["geometry"]).append_column("wkt", pa.array(shapely.to_wkt(shapes)))
        pa.csv.write_csv(wkt, path)
    else:
        raise ValueError(suffix)
    return path
