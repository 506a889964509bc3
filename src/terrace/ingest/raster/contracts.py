"""What the stages of the raster jobs hand each other: each task's input and result."""

from __future__ import annotations

from pydantic import JsonValue

from terrace.ingest.raster.tiling import Grid, Window
from terrace.ingest.raster.validate import Source
from terrace.ingest.release import JobWarning, Location
from terrace.orchestration.definitions import Contract

StacDocument = dict[str, JsonValue]


class InspectTask(Contract):
    path: str


class Inspection(Contract):
    """One source, validated; its kind, and its output grid (None: registered as it is)."""

    source: Source
    kind: str
    grid: Grid | None
    warnings: list[JobWarning]


class Piece(Contract):
    """One COG to write (a stage-2 task): a whole source, or one tile of it; no grid = keep as is."""

    source: Source
    kind: str
    grid: Grid | None
    window: Window | None
    part: str
    path: str
    warnings: list[JobWarning]

    @property
    def thumbnail_path(self) -> str:
        return f"{self.path.removesuffix('.tif')}.thumbnail.png"


class Written(Contract):
    path: str
    part: str
    warnings: list[JobWarning]


class CatalogueTask(Contract):
    warnings: list[JobWarning]


class WrittenCog(Contract):
    path: str
    sha256: str
    size_bytes: int


class Stac(Contract):
    collection: StacDocument
    items: list[StacDocument]


class Outputs(Contract):
    blobs: list[Location]
    cogs: list[WrittenCog]
    stac: Stac
    mosaic: Location | None


class Catalogued(Contract):
    """The job's result: what its completion hook records on the release."""

    outputs: Outputs
    warnings: list[JobWarning]
