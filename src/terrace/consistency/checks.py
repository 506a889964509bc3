"""The database-side checks: tables, `_latest` aliases, pgSTAC, releases and jobs. Each yields
its findings while reading rows through a named cursor, so no result is held whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from terrace.catalog.identity import latest_alias_base
from terrace.catalog.stac_items import PUBLISHED
from terrace.consistency.findings import Finding, batches
from terrace.db.models import metadata
from terrace.db.models.catalog import DRAFT_SCHEMA, SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries

RESUBMIT = "none: resubmit the data as a new version, then unpublish this release"
DATA_SCHEMAS = [SERVED_SCHEMA, DRAFT_SCHEMA]


def rows(conn: Connection, query: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a query, fetched in pages from a server-side cursor."""
    with conn.cursor(name="consistency") as cursor:
        cursor.itersize = 1000
        cursor.execute(queries("consistency")[query], params or {})
        yield from cursor


def missing_tables(conn: Connection, job_id: str) -> Iterator[Finding]:
    for row in rows(conn, "missing_tables", {"only": None}):
        name = f"{row['schema_name']}.{row['table_name']}"
        if row["release_id"]:
            yield Finding(
                kind="missing_table",
                object=name,
                release_id=row["release_id"],
                detail=f"release {row['release_id']} owns {name}, which does not exist",
                repair=RESUBMIT,
            )
        else:
            yield Finding(
                kind="missing_table",
                object=name,
                detail=f"geo.table_catalog describes {name}, which does not exist and no release owns",
                repair="delete_catalog_row",
            )


def unowned_params(only: list[str] | None) -> dict[str, Any]:
    """Parameters of `unowned_relations`: the data schemas, less the models' own tables there."""
    model_tables = [t.fullname for t in metadata.tables.values() if t.schema in DATA_SCHEMAS]
    return {"schemas": DATA_SCHEMAS, "model_tables": model_tables, "only": only}


def orphan_tables(conn: Connection, job_id: str) -> Iterator[Finding]:
    for row in rows(conn, "unowned_relations", unowned_params(None)):
        name = f"{row['schema_name']}.{row['table_name']}"
        what = "view" if row["kind"] == "v" else "table"
        if row["staging"]:
            yield Finding(
                kind="orphan_staging_table",
                object=name,
                detail=f"staging {what} {name} of a job that is no longer running",
                repair="drop_table",
            )
        else:
            yield Finding(
                kind="orphan_table",
                object=name,
                detail=f"{what} {name} belongs to no release",
                repair="drop_table",
            )


def latest_views(conn: Connection, job_id: str) -> Iterator[Finding]:
    """Each served asset's `_latest` aliases exist and read its latest release's tables (an alias
    whose table is itself missing is that table's finding, not this one)."""
    for latest in batches(rows(conn, "latest_releases")):
        by_release = {row["release_id"]: row for row in latest}
        expected: dict[str, tuple[str, str]] = {}  # alias → (table it must read, release)
        tables = conn.execute(
            queries("consistency")["served_tables_of"], {"release_ids": list(by_release)}
        ).fetchall()
        for table in tables:
            if table["present"]:
                release = by_release[table["release_id"]]
                alias = (
                    latest_alias_base(release["dataset_id"], release["resource_id"]) + table["table_suffix"]
                )
                expected[alias] = (table["table_name"], table["release_id"])
        sources: dict[str, set[str]] = {}
        for row in conn.execute(queries("consistency")["view_sources"], {"names": list(expected)}):
            sources.setdefault(row["view_name"], set()).add(row["table_name"])
        for alias, (table_name, release_id) in sorted(expected.items()):
            if table_name not in sources.get(alias, set()):
                found = sources.get(alias)
                yield Finding(
                    kind="missing_latest_view",
                    object=f"{SERVED_SCHEMA}.{alias}",
                    release_id=release_id,
                    detail=(
                        f"{SERVED_SCHEMA}.{alias} reads {', '.join(sorted(found))}, not {table_name}"
                        if found
                        else f"{SERVED_SCHEMA}.{alias} does not exist; it should read {table_name}"
                    ),
                    repair="repoint_latest",
                )


def stac(conn: Connection, job_id: str) -> Iterator[Finding]:
    key = {"key": PUBLISHED}
    missing_collections: set[str] = set()
    for row in rows(conn, "missing_stac", key):
        collection, item = row["collection_id"], row["item_id"]
        if not row["has_collection"]:
            if collection not in missing_collections:
                missing_collections.add(collection)
                yield Finding(
                    kind="missing_stac_collection",
                    object=collection,
                    release_id=row["release_id"],
                    detail=f"served releases publish into collection {collection}, which pgSTAC lacks",
                    repair="rebuild_stac",
                )
            continue
        yield Finding(
            kind="missing_stac_item",
            object=f"{collection}/{item}",
            release_id=row["release_id"],
            detail=f"release {row['release_id']} published item {item}, which pgSTAC lacks",
            repair="rebuild_stac",
        )
    yield from _orphan_stac(conn)


def stac_params(collection_id: str | None = None, item_id: str | None = None) -> dict[str, Any]:
    """Parameters of the orphan STAC queries: every orphan, or only the one named."""
    return {"key": PUBLISHED, "collection_id": collection_id, "item_id": item_id}


def _orphan_stac(conn: Connection) -> Iterator[Finding]:
    for row in rows(conn, "orphan_stac_items", stac_params()):
        yield Finding(
            kind="orphan_stac_item",
            object=f"{row['collection']}/{row['id']}",
            detail=f"item {row['id']} of collection {row['collection']} belongs to no served release",
            repair="delete_stac_item",
        )
    for row in rows(conn, "orphan_stac_collections", stac_params()):
        yield Finding(
            kind="orphan_stac_collection",
            object=row["id"],
            detail=f"collection {row['id']} holds no served release's items",
            repair="delete_stac_collection",
        )


def releases(conn: Connection, job_id: str) -> Iterator[Finding]:
    for row in rows(conn, "releases_without_outputs"):
        what = "table" if row["data_type"] == "vector" else "COG"
        yield Finding(
            kind="release_outputs_missing",
            object=row["release_id"],
            release_id=row["release_id"],
            detail=(
                f"{row['dataset_id']}/{row['resource_id']} ordinal {row['version_ordinal']} is processed "
                f"but records no {what}"
            ),
            repair=RESUBMIT,
        )


def jobs(conn: Connection, job_id: str) -> Iterator[Finding]:
    for row in rows(conn, "stuck_jobs", {"job_id": job_id}):
        yield Finding(
            kind="stuck_job",
            object=row["job_id"],
            detail=(
                f"{row['job_type']} job {row['status']} for {row['age_seconds']} s, "
                f"past its timeout of {row['timeout_seconds']} s"
            ),
            repair="none: the janitor fails it; or cancel it with POST /api/jobs/{job_id}/cancel",
        )
    for row in rows(conn, "failed_cleanups"):
        yield Finding(
            kind="failed_cleanup",
            object=row["job_id"],
            detail=f"cleanup of failed {row['job_type']} job failed: {row['message']}",
            repair="rerun_cleanup",
        )
