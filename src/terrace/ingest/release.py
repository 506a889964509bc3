"""What every processing job shares: the release it writes for, where it reads, and the check
that its outputs belong to no other release."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from terrace.catalog.identity import asset_id
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput

DEFAULT_INPUT_CONTAINERS = ("bronze",)
SLUG = r"^[a-z0-9][a-z0-9_-]{0,99}$"
RELEASE_ID = r"^[0-9a-f]{32}$"
PUBLISHED = ("approved", "revoked")

AccessLevel = Literal["public", "ouo", "restricted"]


class JobWarning(BaseModel):
    """Something a job repaired, assumed or dropped, listed on the release for its reviewer."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    count: int | None = Field(default=None, exclude_if=lambda count: count is None)


class Location(BaseModel):
    """An object in storage."""

    model_config = ConfigDict(extra="forbid")

    container: str
    path: str


class ReleaseJob(BaseModel):
    """The release a job processes: its outputs are named from it, never by the caller."""

    model_config = ConfigDict(extra="forbid")

    container: str = Field(default="bronze", description="Input container of the source file(s).")
    dataset_id: str = Field(pattern=SLUG)
    resource_id: str = Field(pattern=SLUG)
    release_id: str = Field(pattern=RELEASE_ID)
    version_ordinal: int = Field(ge=1, description="The release's ordinal within its asset.")
    revision: int = Field(default=1, ge=1)
    # Optional here so that a job without it fails in its first task with a clear message.
    access_level: AccessLevel | None = None
    title: str | None = None
    description: str | None = None

    def require_access_level(self) -> AccessLevel:
        if self.access_level is None:
            raise InvalidInput(
                "The job has no access_level.",
                "Submit it again with access_level public, ouo or restricted.",
            )
        return self.access_level


def require_input_container(container: str, allowed: Collection[str]) -> str:
    """Sources come only from input containers; silver holds Terrace's own outputs."""
    if container not in allowed:
        raise InvalidInput(
            f"Container {container!r} is not an input container.",
            f"Upload the file to an input container ({', '.join(allowed)}) and submit it from there.",
        )
    return container


def require_own_outputs(conn: Connection, params: ReleaseJob) -> None:
    """Refuse to write where another release's outputs are, or into a published release.

    Output names derive from dataset, resource, ordinal and revision; the release holding that
    ordinal (if any) must be this job's release, at this revision, not yet published.
    """
    row = conn.execute(
        queries("outputs")["release_at_ordinal"],
        {
            "asset_id": asset_id(params.dataset_id, params.resource_id),
            "version_ordinal": params.version_ordinal,
        },
    ).fetchone()
    if row is None:
        return
    where = f"{params.dataset_id}/{params.resource_id} ordinal {params.version_ordinal}"
    if row["release_id"] != params.release_id:
        raise Conflict(
            f"The outputs of {where} belong to release {row['release_id']}, not {params.release_id}.",
            "Submit files through POST /api/platform/submit, which names each release's outputs.",
        )
    if row["approval_state"] in PUBLISHED or row["revision"] != params.revision:
        raise Conflict(
            f"Release {params.release_id} is {row['approval_state']} at revision {row['revision']}; "
            f"a job for revision {params.revision} may not write its outputs.",
            "Published outputs never change: submit a new version through POST /api/platform/submit.",
        )
