"""The zonal request as the API takes it, and the zonal_statistics job's parameters and contracts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from terrace.analytics.zonal.stats import normalize_stats
from terrace.catalog.identity import draft_table_base
from terrace.db.models.catalog import DRAFT_SCHEMA
from terrace.ingest.release import RELEASE_ID, JobWarning, ReleaseJob
from terrace.ingest.vector.contracts import ProducedTable
from terrace.orchestration.definitions import Contract

Stats = Annotated[list[str], AfterValidator(normalize_stats)]


class ReleaseRef(BaseModel):
    """A served release by name: the version given, or the latest."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(min_length=1, max_length=100)
    resource_id: str = Field(min_length=1, max_length=100)
    version_id: str | None = Field(default=None, max_length=40)


class GridRef(BaseModel):
    """The cells of an H3 grid at one of its resolutions."""

    model_config = ConfigDict(extra="forbid")

    h3_grid: str = Field(min_length=1, max_length=100)
    resolution: int = Field(ge=0, le=15)


class OutputRef(BaseModel):
    """The asset whose new draft release holds the statistics."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(min_length=1, max_length=100)
    resource_id: str = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class ZonalRequest(BaseModel):
    """POST /api/analytics/zonal."""

    model_config = ConfigDict(extra="forbid")

    raster: ReleaseRef
    zones: GridRef | ReleaseRef
    stats: Stats
    output: OutputRef
    weights: ReleaseRef | None = Field(
        default=None, description="A raster that weighs each cell for the weighted_* statistics."
    )


class GridZones(Contract):
    kind: Literal["h3"] = "h3"
    grid: str
    resolution: int = Field(ge=0, le=15)


class ReleaseZones(Contract):
    kind: Literal["release"] = "release"
    release_id: str = Field(pattern=RELEASE_ID)


class ZonalParams(ReleaseJob):
    """The job names its inputs by release (or grid); tasks find their tables and files in the
    catalog, never in the parameters."""

    raster_release_id: str = Field(pattern=RELEASE_ID)
    weights_release_id: str | None = Field(default=None, pattern=RELEASE_ID)
    zones: Annotated[GridZones | ReleaseZones, Field(discriminator="kind")]
    stats: Stats
    chunk_size: int = Field(default=20_000, ge=1, le=1_000_000, description="Zones per compute task.")

    @property
    def table_name(self) -> str:
        return draft_table_base(self.dataset_id, self.resource_id, self.version_ordinal)

    @property
    def target_schema(self) -> str:
        return DRAFT_SCHEMA


class Chunk(Contract):
    """The zones one task computes: positions `first` to `last` (1-based) from south to north."""

    index: int
    first: int
    last: int


class Planned(Contract):
    staging: str
    chunks: list[Chunk]
    bands: int


class ComputeTask(Contract):
    staging: str
    chunk: Chunk
    bands: int


class Computed(Contract):
    staging: str
    bands: int
    chunk: int
    zones: int


class AssembleTask(Contract):
    staging: str
    bands: int
    zones: int


class ZonalOutputs(Contract):
    """What the release was computed from, kept in its outputs."""

    raster_release_id: str
    weights_release_id: str | None = None
    zones: GridZones | ReleaseZones
    stats: list[str]


class Aggregated(Contract):
    """The job's result: what its completion hook records on the release."""

    tables: list[ProducedTable]
    warnings: list[JobWarning]
    outputs: ZonalOutputs
