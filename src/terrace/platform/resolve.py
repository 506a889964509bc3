"""Catalog resolution: an asset by name, its latest served version, versions, drafts, one version.

Every answer holds only the releases the viewer may see; an asset with none is not found.
"""

from __future__ import annotations

from typing import Any

from terrace.catalog import identity
from terrace.catalog.releases import Release
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.platform.views import describe
from terrace.platform.visibility import Viewer


def asset(conn: Connection, viewer: Viewer, dataset_id: str, resource_id: str) -> dict[str, Any]:
    dataset = identity.normalize_slug(dataset_id, "dataset_id")
    resource = identity.normalize_slug(resource_id, "resource_id")
    row = conn.execute(
        queries("releases")["asset_by_name"],
        {"dataset_id": dataset, "resource_id": resource, **viewer.params},
    )
    found = row.fetchone()
    if found is None:
        raise NotFound(f"No asset {dataset}/{resource}.", "List what exists, or submit data first.")
    return dict(found)


def releases(
    conn: Connection, viewer: Viewer, dataset_id: str, resource_id: str, which: str
) -> list[dict[str, Any]]:
    """which: 'versions', 'drafts' or 'all'."""
    found = asset(conn, viewer, dataset_id, resource_id)
    rows = conn.execute(
        queries("releases")["releases_of_asset"],
        {"asset_id": found["asset_id"], "filter": which, **viewer.params},
    )
    return [describe(conn, Release.of(r)) for r in rows.fetchall()]


def latest(conn: Connection, viewer: Viewer, dataset_id: str, resource_id: str) -> dict[str, Any]:
    """The highest-ordinal approved, served release."""
    served = [
        r
        for r in releases(conn, viewer, dataset_id, resource_id, "versions")
        if r["approval_state"] == "approved" and r["is_served"]
    ]
    if not served:
        raise NotFound(f"{dataset_id}/{resource_id} has no served version.", "Approve a release first.")
    return served[-1]


def version(
    conn: Connection, viewer: Viewer, dataset_id: str, resource_id: str, version_id: str
) -> dict[str, Any]:
    found = asset(conn, viewer, dataset_id, resource_id)
    row = conn.execute(
        queries("releases")["release_by_version"],
        {
            "asset_id": found["asset_id"],
            "version_id": identity.normalize_version(version_id),
            **viewer.params,
        },
    )
    release = row.fetchone()
    if release is None:
        raise NotFound(
            f"{dataset_id}/{resource_id} has no version {version_id}.",
            f"See /api/platform/catalog/{dataset_id}/{resource_id}/versions.",
        )
    return describe(conn, Release.of(release))


def approvals(
    conn: Connection, viewer: Viewer, state: str | None, dataset_id: str | None, limit: int
) -> list[dict[str, Any]]:
    params = {"state": state, "dataset_id": dataset_id, "limit": limit, **viewer.params}
    return [describe(conn, Release.of(r)) for r in conn.execute(queries("releases")["approvals"], params)]
