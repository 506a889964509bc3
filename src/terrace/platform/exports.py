"""Export of a served vector release (SPEC §13): resolve the version the caller may see, pick its
table, and stream it in the asked format, read as the serving role.

A release the caller may not see, a draft, a revoked or unpublished release all answer as a
missing one; the format is checked first, so its error tells nothing about the release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Pool
from terrace.errors import InvalidInput, NotFound
from terrace.exports import Body, describe, export_format, export_table
from terrace.platform import resolve
from terrace.platform.visibility import Viewer

LATEST = "latest"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    body: Body


def export_release(
    pool: Pool,
    serving_url: str,
    viewer: Viewer,
    dataset_id: str,
    resource_id: str,
    version_id: str,
    format_name: str,
    part: str | None = None,
) -> Export:
    """The file of one served table of the release (`part`: which one, when it has several)."""
    chosen = export_format(format_name)
    with pool.connection() as conn:
        if version_id.strip().lower() == LATEST:
            release = resolve.latest(conn, viewer, dataset_id, resource_id)
        else:
            release = resolve.version(conn, viewer, dataset_id, resource_id, version_id)
    if release["approval_state"] != "approved" or not release["is_served"]:
        raise NotFound(
            f"{dataset_id}/{resource_id} has no served version {version_id}.",
            f"See /api/platform/catalog/{dataset_id}/{resource_id}/versions; only served versions export.",
        )
    if release["data_type"] != "vector":
        raise InvalidInput(
            f"{dataset_id}/{resource_id} {release['version_id']} is a raster; only vector releases export.",
            "Download its COGs from the assets of its STAC items under /stac.",
        )
    name = _table(release, part)
    body = export_table(serving_url, describe(serving_url, SERVED_SCHEMA, name), chosen)
    return Export(_UNSAFE.sub("_", f"{name}.{chosen.extension}"), chosen.media_type, body)


def _table(release: dict[str, Any], part: str | None) -> str:
    """The served table named by `part` (a table suffix such as `point`), by default the one
    without a suffix or the only one."""
    tables = {
        t["table_suffix"].lstrip("_"): t["table_name"]
        for t in release["outputs"]
        if t["schema_name"] == SERVED_SCHEMA
    }
    if part is None and len(tables) == 1:
        return next(iter(tables.values()))
    found = tables.get((part or "").strip().lower())
    if found is None:
        raise InvalidInput(
            f"Release {release['version_id']} has no table part {(part or '')[:40]!r}.",
            f"Ask for one with ?part= among: {', '.join(sorted(p for p in tables if p)) or '(none)'}.",
        )
    return found
