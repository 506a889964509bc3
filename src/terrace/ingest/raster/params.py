"""Parameters of the process_raster and process_raster_collection jobs."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator

from terrace.errors import InvalidInput

AccessLevel = Literal["public", "ouo", "restricted"]
Tier = Literal["analysis", "visualization", "archive"]
Kind = Literal["rgb", "rgba", "dem", "categorical", "multispectral", "continuous"]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,99}$"
PREFIX = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$"
DEFAULT_TILE_THRESHOLD = 2 * 1024**3
NATIVE = "native"


class RasterOptions(BaseModel):
    """What both raster jobs share: where outputs go, how COGs are made, how they are catalogued."""

    container: str = "bronze"
    dataset_id: str = Field(pattern=SLUG)
    resource_id: str = Field(pattern=SLUG)
    release_id: str | None = None
    revision: int = Field(default=1, ge=1)
    output_prefix: str = Field(
        pattern=PREFIX, description="Folder in silver for the COGs, e.g. cogs/floods/jakarta/ord1/."
    )
    # Optional here so that a job without it fails in its first task with a clear message.
    access_level: AccessLevel | None = None
    title: str | None = None
    description: str | None = None
    crs: str | None = Field(default=None, description="CRS of a source that names none.")
    nodata: float | None = Field(default=None, description="Nodata value of a source that declares none.")
    target_crs: str = Field(default="EPSG:4326", description="CRS of the COGs; 'native' keeps the source's.")
    tier: Tier = "analysis"
    kind: Kind | None = Field(default=None, description="Overrides the detected raster kind.")
    collection_id: str | None = Field(default=None, pattern=SLUG)
    collection_must_exist: bool = False
    tile_threshold_bytes: int = Field(
        default=DEFAULT_TILE_THRESHOLD, ge=1, description="Uncompressed size above which a raster is tiled."
    )
    tile_size: int = Field(default=8192, ge=512, description="Tile edge in pixels (a multiple of 512).")
    tile_overlap: int = Field(default=64, ge=0, le=1024, description="Pixels neighbouring tiles share.")

    @field_validator("tile_size")
    @classmethod
    def _multiple_of_512(cls, value: int) -> int:
        if value % 512:
            raise ValueError("tile_size must be a multiple of 512")
        return value

    @property
    def stac_collection_id(self) -> str:
        return self.collection_id or self.dataset_id

    @property
    def prefix(self) -> str:
        return self.output_prefix.rstrip("/")

    def require_access_level(self) -> AccessLevel:
        if self.access_level is None:
            raise InvalidInput(
                "The job has no access_level.",
                "Submit it again with access_level public, ouo or restricted.",
            )
        return self.access_level


class RasterParams(RasterOptions):
    path: str = Field(min_length=1, description="Object path of the raster in the container.")

    @property
    def paths(self) -> list[str]:
        return [self.path]


class RasterCollectionParams(RasterOptions):
    paths: list[str] = Field(
        min_length=2,
        validation_alias=AliasChoices("paths", "path"),
        description="Object paths of the rasters, all in the container.",
    )
