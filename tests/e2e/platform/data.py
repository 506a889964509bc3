"""Small generated vector files for lifecycle tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely


def write_points(path: Path, count: int) -> Path:
    """A GeoPackage of `count` seeded points around Jakarta with one float attribute."""
    rng = np.random.default_rng(count)
    points = shapely.points(rng.uniform(106.7, 106.9, count), rng.uniform(-6.3, -6.1, count))
    table = pa.table({"depth": rng.uniform(0, 2, count), "geometry": shapely.to_wkb(points)})
    pyogrio.write_arrow(
        table, path, driver="GPKG", geometry_name="geometry", geometry_type="Point", crs="EPSG:4326"
    )
    return path


def write_mixed(path: Path) -> Path:
    """A GeoJSON with one point, one line and one polygon."""
    geometries = [
        {"type": "Point", "coordinates": [106.8, -6.2]},
        {"type": "LineString", "coordinates": [[106.7, -6.2], [106.9, -6.1]]},
        {"type": "Polygon", "coordinates": [[[106.7, -6.3], [106.9, -6.3], [106.9, -6.1], [106.7, -6.3]]]},
    ]
    features = [{"type": "Feature", "properties": {"n": n}, "geometry": g} for n, g in enumerate(geometries)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
