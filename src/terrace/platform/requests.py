"""The Platform API's request bodies, validated once at the boundary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from terrace.auth import Role
from terrace.db.models.catalog import ACCESS_LEVELS
from terrace.errors import InvalidInput

VECTOR_OPTIONS = frozenset(
    {
        "geometry_split",
        "arcgis_mode",
        "keep_z",
        "layer",
        "lat_column",
        "lon_column",
        "wkt_column",
        "crs",
        "split_column",
    }
)
RASTER_OPTIONS = frozenset(
    {"crs", "collection_id", "collection_must_exist", "target_crs", "tier", "kind", "nodata"}
)
JOB_OPTIONS = {"vector": VECTOR_OPTIONS, "raster": RASTER_OPTIONS, "raster_collection": RASTER_OPTIONS}


class ProcessingOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overwrite: bool = False
    geometry_split: bool = True
    arcgis_mode: bool = False
    keep_z: bool = False
    layer: str | None = None
    lat_column: str | None = None
    lon_column: str | None = None
    wkt_column: str | None = None
    crs: str | None = None
    split_column: str | None = None
    collection_id: str | None = None
    collection_must_exist: bool = False
    target_crs: str | None = None
    tier: str | None = None
    kind: str | None = None
    nodata: float | None = None

    def for_job(self, data_type: str) -> dict[str, Any]:
        """The options given explicitly, refusing those the data type's job does not take."""
        given = self.model_dump(exclude_defaults=True, exclude={"overwrite"})
        foreign = sorted(set(given) - JOB_OPTIONS[data_type])
        if foreign:
            raise InvalidInput(
                f"processing_options {', '.join(foreign)} do not apply to {data_type} data.",
                f"For {data_type} data use: {', '.join(sorted(JOB_OPTIONS[data_type]))}.",
            )
        return given


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(min_length=1, max_length=100)
    resource_id: str = Field(min_length=1, max_length=100)
    version_id: str | None = None
    container_name: str = "bronze"
    file_name: str | list[str]
    title: str | None = None
    description: str | None = None
    access_level: str = "ouo"
    granted_roles: list[str] = Field(
        default_factory=list, description="Roles that may see a restricted release once served."
    )
    processing_options: ProcessingOptions = Field(default_factory=ProcessingOptions)

    @field_validator("access_level")
    @classmethod
    def _access_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in ACCESS_LEVELS:
            raise InvalidInput(
                f"access_level {value!r} is not allowed.", f"Use one of: {', '.join(ACCESS_LEVELS)}."
            )
        return level

    @model_validator(mode="after")
    def _grants(self) -> SubmitRequest:
        roles = [role.value for role in Role]
        unknown = sorted(set(self.granted_roles) - set(roles))
        if unknown:
            raise InvalidInput(f"granted_roles {unknown} are not roles.", f"Use some of: {', '.join(roles)}.")
        if self.granted_roles and self.access_level != "restricted":
            raise InvalidInput(
                "granted_roles apply only to restricted releases.",
                "Set access_level to restricted, or leave granted_roles out.",
            )
        return self

    @property
    def files(self) -> list[str]:
        return self.file_name if isinstance(self.file_name, list) else [self.file_name]


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release_id: str | None = None
    request_id: str | None = None
    version_id: str | None = None
    clearance_state: str = "ouo"
    notes: str | None = None

    @property
    def ref(self) -> str:
        return _ref(self.release_id, self.request_id)


class ClearanceRequest(BaseModel):
    """A reviewer's change of an approved release's clearance (SPEC §14)."""

    model_config = ConfigDict(extra="forbid")

    release_id: str | None = None
    request_id: str | None = None
    clearance_state: str
    notes: str | None = None

    @property
    def ref(self) -> str:
        return _ref(self.release_id, self.request_id)


class ReasonRequest(BaseModel):
    """Reject and revoke: which release, and why."""

    model_config = ConfigDict(extra="forbid")

    release_id: str | None = None
    request_id: str | None = None
    reason: str = Field(min_length=1)

    @property
    def ref(self) -> str:
        return _ref(self.release_id, self.request_id)


class UnpublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release_id: str | None = None
    request_id: str | None = None
    job_id: str | None = None
    dry_run: bool = True
    force_approved: bool = False

    @property
    def ref(self) -> str:
        return _ref(self.release_id, self.request_id, self.job_id)


def _ref(*candidates: str | None) -> str:
    given = [c for c in candidates if c]
    if len(given) != 1:
        raise InvalidInput("Name exactly one release.", "Send one of release_id, request_id or job_id.")
    return given[0]
