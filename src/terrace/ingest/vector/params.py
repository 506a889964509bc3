"""Parameters of the process_vector job."""

from __future__ import annotations

from pydantic import Field

from terrace.catalog.identity import draft_table_base
from terrace.db.models.catalog import DRAFT_SCHEMA
from terrace.ingest.release import ReleaseJob
from terrace.ingest.vector.sources import ReadOptions


class VectorParams(ReleaseJob):
    path: str = Field(min_length=1, description="Object path of the file in the container.")
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
    def target_schema(self) -> str:
        """Jobs write drafts only; approval moves them to the served schema."""
        return DRAFT_SCHEMA

    @property
    def table_name(self) -> str:
        """Base name of the release's table(s): `{dataset}_{resource}_ord{N}`."""
        return draft_table_base(self.dataset_id, self.resource_id, self.version_ordinal)

    @property
    def geometry_column(self) -> str:
        return "shape" if self.arcgis_mode else "geom"

    @property
    def work_prefix(self) -> str:
        return f"ingest/{self.dataset_id}/{self.resource_id}/{self.table_name}-r{self.revision}"

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(self.layer, self.lat_column, self.lon_column, self.wkt_column)
