"""Files as users hand them over: a File Geodatabase zipped, a shapefile missing its index."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pyogrio
import pytest
import shapely

from terrace.errors import InvalidInput
from terrace.ingest.vector.sources import ReadOptions, open_source


def roads(path: Path, driver: str, layer: str = "roads") -> Path:
    lines = shapely.to_wkb([shapely.LineString([(106.8, -6.2), (106.9, -6.1)])] * 2)
    table = pa.table({"name": ["jalan a", "jalan b"], "geometry": lines})
    pyogrio.write_arrow(
        table,
        path,
        driver=driver,
        layer=layer,
        geometry_name="geometry",
        geometry_type="LineString",
        crs="EPSG:4326",
    )
    return path


def test_a_zipped_file_geodatabase_opens_with_its_layers(tmp_path: Path) -> None:
    gdb = roads(tmp_path / "city.gdb", "OpenFileGDB")
    roads(gdb, "OpenFileGDB", layer="rivers")
    archive = tmp_path / "city.gdb.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in gdb.iterdir():
            zipped.write(file, f"city.gdb/{file.name}")
    with open_source(archive, ReadOptions(layer="rivers")) as source:
        assert (source.format, source.layer) == ("FileGDB (zip)", "rivers")
        assert sum(batch.records.num_rows for batch in source.batches) == 2
    with pytest.raises(InvalidInput, match="city.gdb.zip has 2 spatial layers: roads, rivers"):
        with open_source(archive, ReadOptions()):
            pass


def test_a_shapefile_without_its_shx_is_refused_naming_it(tmp_path: Path) -> None:
    shp = roads(tmp_path / "roads.shp", "ESRI Shapefile")
    shp.with_suffix(".shx").unlink()
    with pytest.raises(InvalidInput, match=r"roads.shp has no roads.shx beside it") as refused:
        with open_source(shp, ReadOptions()):
            pass
    assert str(tmp_path) not in refused.value.message


def test_a_repeated_csv_header_is_read_as_its_own_column(tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_text(
        "name,name,geometry,lon,lat\nCesar,Aguilar,a,-118.27,34.06\nGeorge,Alvarez,b,-118.23,34.06\n"
    )
    with open_source(csv, ReadOptions()) as source:
        (batch,) = source.batches
    assert batch.records.schema.names[:2] == ["name", "name_2"]
    assert batch.records.column("name_2").to_pylist() == ["Aguilar", "Alvarez"]
