"""The data type of a submission, told from its file names."""

from __future__ import annotations

import pytest

from terrace.errors import InvalidInput
from terrace.platform.data_types import JOB_TYPES, RASTER_EXTENSIONS, VECTOR_EXTENSIONS, infer_data_type


@pytest.mark.parametrize("extension", sorted(VECTOR_EXTENSIONS))
def test_vector_extensions(extension: str) -> None:
    assert infer_data_type([f"floods/jakarta/data{extension}"]) == "vector"


@pytest.mark.parametrize("extension", sorted(RASTER_EXTENSIONS))
def test_raster_extensions(extension: str) -> None:
    assert infer_data_type([f"relief/java/dem{extension}"]) == "raster"


@pytest.mark.parametrize("name", ["ROADS.GPKG", "dem.TIF", "a.b.GeoJSON"])
def test_extension_case_does_not_matter(name: str) -> None:
    assert infer_data_type([name]) in ("vector", "raster")


def test_several_rasters_are_a_collection() -> None:
    assert infer_data_type(["tiles/a.tif", "tiles/b.TIFF", "tiles/c.jp2"]) == "raster_collection"


def test_one_raster_in_a_list_is_a_raster() -> None:
    assert infer_data_type(["relief/java/dem.tif"]) == "raster"


def test_several_files_must_all_be_rasters() -> None:
    with pytest.raises(InvalidInput, match="every file must be a raster") as caught:
        infer_data_type(["tiles/a.tif", "roads.gpkg"])
    assert ".tif" in caught.value.remediation


@pytest.mark.parametrize("name", ["notes.txt", "README", "archive.tar.gz", "data."])
def test_unknown_extension_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="Cannot tell the data type") as caught:
        infer_data_type([name])
    assert ".gpkg" in caught.value.remediation and ".tif" in caught.value.remediation


def test_no_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names no file"):
        infer_data_type([])


def test_every_data_type_has_a_job() -> None:
    inferred = {infer_data_type(["a.gpkg"]), infer_data_type(["a.tif"]), infer_data_type(["a.tif", "b.tif"])}
    assert inferred == set(JOB_TYPES)
