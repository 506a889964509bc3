"""What the raster jobs' stages hand each other survives JSON, and their planners are exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from terrace.errors import InvalidInput
from terrace.ingest.raster.contracts import (
    Catalogued,
    CatalogueTask,
    Inspection,
    Outputs,
    Stac,
    Written,
    WrittenCog,
)
from terrace.ingest.raster.job import plan_catalogue, plan_cogs, plan_inspections
from terrace.ingest.raster.params import RasterCollectionParams, RasterParams
from terrace.ingest.raster.tiling import Grid
from terrace.ingest.raster.validate import Source
from terrace.ingest.release import JobWarning, Location

RELEASE = {"dataset_id": "relief", "resource_id": "java", "release_id": "0" * 32, "version_ordinal": 1}
REPROJECTED = JobWarning(code="REPROJECTED", message="in/dem.tif: EPSG:32749 to EPSG:4326.")


def source(
    path: str = "in/dem.tif", width: int = 960, dtype: str = "float32", crs: str = "EPSG:32749"
) -> Source:
    return Source(
        path=path,
        driver="GTiff",
        size_bytes=3_686_400,
        width=width,
        height=960,
        count=1,
        dtype=dtype,
        nodata=-9999.0,
        crs=crs,
        transform=[30.0, 0.0, 600000.0, 0.0, -30.0, 9300000.0],
        colorinterp=["gray"],
        descriptions=[None],
        colormap=None,
        is_cog=False,
        acquired_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
    )


def inspection(src: Source) -> Inspection:
    grid = Grid(
        crs="EPSG:4326",
        transform=[0.0003, 0.0, 106.0, 0.0, -0.0003, -6.0],
        width=src.width,
        height=960,
        warp=True,
    )
    return Inspection(source=src, kind="dem", grid=grid, warnings=[REPROJECTED])


def test_each_file_is_inspected_by_its_own_task() -> None:
    params = RasterCollectionParams(**RELEASE, paths=["in/a.tif", "in/b.tif"])
    assert [t.path for t in plan_inspections(params, [])] == ["in/a.tif", "in/b.tif"]


def test_a_raster_under_the_threshold_is_one_piece() -> None:
    params = RasterParams(**RELEASE, path="in/dem.tif")
    (piece,) = plan_cogs(params, [inspection(source())])
    assert piece.path == "cogs/relief/java/ord1-r1/dem.tif" and piece.window is None and piece.part == ""
    assert piece.thumbnail_path == "cogs/relief/java/ord1-r1/dem.thumbnail.png"
    assert piece.warnings == [REPROJECTED]


def test_a_raster_over_the_threshold_is_cut_into_tiles() -> None:
    params = RasterParams(
        **RELEASE, path="in/dem.tif", tile_threshold_bytes=1_000_000, tile_size=512, tile_overlap=64
    )
    pieces = plan_cogs(params, [inspection(source())])
    assert [p.part for p in pieces] == ["r000_c000", "r000_c001", "r001_c000", "r001_c001"]
    assert [(p.window.col_off, p.window.width) for p in pieces if p.window] == [(0, 512), (448, 512)] * 2
    tiled = JobWarning(code="TILED", message="dem: 4 tiles of up to 512 pixels.")
    assert all(p.warnings == [REPROJECTED, tiled] for p in pieces)


def test_files_of_a_collection_are_named_by_their_stems() -> None:
    params = RasterCollectionParams(**RELEASE, paths=["in/North.tif", "in/south.tif"])
    pieces = plan_cogs(params, [inspection(source("in/North.tif")), inspection(source("in/south.tif"))])
    assert [(p.part, p.path.rsplit("/", 1)[-1]) for p in pieces] == [
        ("north", "north.tif"),
        ("south", "south.tif"),
    ]


def test_a_collection_that_is_not_homogeneous_is_refused_before_any_cog() -> None:
    params = RasterCollectionParams(**RELEASE, paths=["in/a.tif", "in/b.tif"])
    odd = inspection(source("in/b.tif", dtype="int16"))
    with pytest.raises(InvalidInput, match="in/b.tif has data type int16 instead of float32"):
        plan_cogs(params, [inspection(source("in/a.tif")), odd])


def test_the_catalogue_task_lists_each_warning_once() -> None:
    tiled = JobWarning(code="TILED", message="dem: 4 tiles of up to 512 pixels.")
    written = [Written(path=f"cogs/{n}.tif", part=str(n), warnings=[REPROJECTED, tiled]) for n in range(3)]
    assert plan_catalogue(RasterParams(**RELEASE, path="in/dem.tif"), written) == [
        CatalogueTask(warnings=[REPROJECTED, tiled])
    ]


CATALOGUED = Catalogued(
    outputs=Outputs(
        blobs=[Location(container="silver", path="cogs/relief/java/ord1-r1/dem.tif")],
        cogs=[WrittenCog(path="cogs/relief/java/ord1-r1/dem.tif", sha256="cd" * 32, size_bytes=123)],
        stac=Stac(
            collection={"id": "relief", "extent": {"spatial": {"bbox": [[106.0, -7.0, 107.0, -6.0]]}}},
            items=[],
        ),
        mosaic=None,
    ),
    warnings=[REPROJECTED],
)
CONTRACTS: list[BaseModel] = [
    *plan_inspections(RasterParams(**RELEASE, path="in/dem.tif"), []),
    inspection(source()),
    *plan_cogs(
        RasterParams(**RELEASE, path="in/dem.tif", tile_threshold_bytes=1, tile_size=512),
        [inspection(source())],
    ),
    Written(path="cogs/dem.tif", part="", warnings=[REPROJECTED]),
    CatalogueTask(warnings=[REPROJECTED]),
    CATALOGUED,
]


@pytest.mark.parametrize("contract", CONTRACTS, ids=[type(c).__name__ for c in CONTRACTS])
def test_every_contract_survives_a_trip_through_jsonb(contract: BaseModel) -> None:
    stored = json.loads(json.dumps(contract.model_dump(mode="json")))  # as app.tasks keeps it
    assert type(contract).model_validate(stored) == contract


def test_the_job_result_keeps_the_shape_releases_record() -> None:
    assert CATALOGUED.model_dump(mode="json")["warnings"] == [
        {"code": "REPROJECTED", "message": "in/dem.tif: EPSG:32749 to EPSG:4326."}
    ]
    assert CATALOGUED.model_dump(mode="json")["outputs"]["mosaic"] is None
