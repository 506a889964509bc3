"""Which objects in silver are owned: named by a row, or inside the output folder of a live
release or of a job still running. Everything else, once older than a grace period, is an orphan."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.ingest.raster.params import RasterOptions
from terrace.ingest.vector.params import VectorParams

FOLDER_ROOTS = ("cogs", "ingest")  # silver/{root}/{dataset}/{resource}/{slot}/...
FOLDER_DEPTH = 4


def slot_folders(dataset_id: str, resource_id: str, ordinal: int, revision: int) -> tuple[str, str]:
    """The silver folders a release's job writes to, named exactly as the ingest jobs name them
    (their parameter models derive the folders from these four fields alone)."""
    fields: dict[str, Any] = {
        "dataset_id": dataset_id,
        "resource_id": resource_id,
        "version_ordinal": ordinal,
        "revision": revision,
    }
    return RasterOptions.model_construct(None, **fields).prefix, VectorParams.model_construct(
        None, **fields
    ).work_prefix


def folder_of(path: str) -> str | None:
    """The release output folder an object lies in, if its path has that shape."""
    parts = path.split("/")
    if len(parts) <= FOLDER_DEPTH or parts[0] not in FOLDER_ROOTS:
        return None
    return "/".join(parts[:FOLDER_DEPTH])


def unowned(conn: Connection, container: str, paths: Iterable[str]) -> list[str]:
    """Those of `paths` (one batch) that no row names and no live release or running job owns."""
    paths = list(paths)
    named = {
        row["path"]
        for row in conn.execute(
            queries("consistency")["cog_paths_among"], {"container": container, "paths": paths}
        )
    }
    owned_folders = _owned_folders(conn, {f for p in paths if (f := folder_of(p))})
    return [p for p in paths if p not in named and folder_of(p) not in owned_folders]


def _owned_folders(conn: Connection, folders: set[str]) -> set[str]:
    if not folders:
        return set()
    pairs = sorted({tuple(f.split("/")[1:3]) for f in folders})
    rows = conn.execute(
        queries("consistency")["output_slots"],
        {"datasets": [d for d, _ in pairs], "resources": [r for _, r in pairs]},
    )
    return {
        folder
        for row in rows
        for folder in slot_folders(
            row["dataset_id"], row["resource_id"], row["version_ordinal"], row["revision"]
        )
    }
