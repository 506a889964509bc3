"""Parameters of the process_vector job."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from terrace.ingest.vector.sources import ReadOptions

IDENTIFIER = r"^[a-z_][a-z0-9_]{0,54}$"


class VectorParams(BaseModel):
    container: str = "bronze"
    path: str = Field(min_length=1, description="Object path of the file in the container.")
    dataset_id: str
    resource_id: str
    table_name: str = Field(pattern=IDENTIFIER, description="Base name of the table(s) to create.")
    target_schema: Literal["geo_draft"] = "geo_draft"
    access_level: Literal["public", "ouo", "restricted"] | None = None
    release_id: str | None = None
    revision: int = 1
    title: str | None = None
    description: str | None = None
    keywords: list[str] = Field(default_factory=list)
    layer: str | None = None
    crs: str | None = Field(default=None, description="CRS of the data when the file names none.")
    lat_column: str | None = None
    lon_column: str | None = None
    wkt_column: str | None = None
    geometry_split: bool = True
    split_column: str | None = None
    arcgis_mode: bool = False
    keep_z: bool = False
    chunk_size: int = Field(
        default=100_000, ge=100, le=5_000_000, description="Features per part read and per chunk loaded."
    )

    @property
    def geometry_column(self) -> str:
        return "shape" if self.arcgis_mode else "geom"

    @property
    def work_prefix(self) -> str:
        return f"ingest/{self.dataset_id}/{self.resource_id}/{self.table_name}-r{self.revision}"

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(self.layer, self.lat_column, self.lon_column, self.wkt_column)
