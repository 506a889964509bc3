"""The storage-side checks: objects in silver that nothing owns, and objects rows name that are
gone. Listings are read page by page and judged in bounded batches against the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import obstore
from pydantic import BaseModel, ConfigDict

from terrace.consistency.checks import RESUBMIT, rows
from terrace.consistency.findings import BATCH, Finding, batches
from terrace.consistency.ownership import unowned
from terrace.db.pool import Connection
from terrace.storage import Storage

if TYPE_CHECKING:
    from obstore import ObjectMeta

SILVER = "silver"
SCOPES_PER_TASK = 50


class Scope(BaseModel):
    """A part of the container: every object under `prefix`, or (not recursive) only those
    directly in it. The empty prefix is the container's root."""

    model_config = ConfigDict(extra="forbid")

    prefix: str
    recursive: bool


def survey(storage: Storage) -> list[list[Scope]]:
    """Silver cut into scopes two folder levels deep (one per dataset of `cogs/`, `ingest/`, …),
    grouped for the tasks that check them."""
    store = storage.store(SILVER)
    scopes = [Scope(prefix="", recursive=False)]
    for top in obstore.list_with_delimiter(store)["common_prefixes"]:
        level = obstore.list_with_delimiter(store, prefix=top)
        scopes.append(Scope(prefix=top, recursive=False))
        scopes += [Scope(prefix=p, recursive=True) for p in level["common_prefixes"]]
    return list(batches(scopes, SCOPES_PER_TASK))


def orphan_blobs(
    conn: Connection, storage: Storage, scopes: list[Scope], grace: timedelta
) -> Iterator[Finding]:
    """Objects in the scopes that nothing owns and that are older than `grace` (a job may be
    about to record what it just wrote)."""
    cutoff = datetime.now(UTC) - grace
    for scope in scopes:
        for page in _pages(storage, scope):
            settled = [meta["path"] for meta in page if meta["last_modified"] < cutoff]
            for path in unowned(conn, SILVER, settled):
                yield Finding(
                    kind="orphan_blob",
                    object=f"{SILVER}/{path}",
                    detail=f"{SILVER}/{path} belongs to no release, row or running job",
                    repair="delete_blob",
                )


def _pages(storage: Storage, scope: Scope) -> Iterator[list[ObjectMeta]]:
    store = storage.store(SILVER)
    prefix = scope.prefix or None
    if not scope.recursive:
        yield from batches(obstore.list_with_delimiter(store, prefix=prefix)["objects"])
        return
    for page in obstore.list(store, prefix=prefix, chunk_size=BATCH):
        yield list(page)


def missing_blobs(conn: Connection, storage: Storage) -> Iterator[Finding]:
    """Objects that cog_metadata or a live release's outputs name, but storage lacks."""
    for row in rows(conn, "named_blobs"):
        container, path = row["container"], row["path"]
        if container in storage.containers and storage.exists(container, path):
            continue
        yield Finding(
            kind="missing_blob",
            object=f"{container}/{path}",
            release_id=row["release_id"],
            detail=f"{container}/{path} is named by the catalog but absent from storage",
            repair=RESUBMIT,
        )
