"""The repair: one planner turns the latest report into actions, re-checking each against the
catalog as it is now; a dry run returns them, a real run applies them one transaction each,
audited and written to the job timeline. Nothing a served release owns is ever deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from terrace.catalog import stac_items
from terrace.catalog.latest import refresh_latest
from terrace.catalog.relations import drop_relation
from terrace.catalog.releases import lock_release
from terrace.consistency.checks import rows, stac_params, unowned_params
from terrace.consistency.findings import Finding, batches
from terrace.consistency.ownership import unowned
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.orchestration.registry import JobRegistry
from terrace.stac import pgstac
from terrace.storage import Storage

Verb = Literal[
    "drop_table",
    "delete_catalog_row",
    "delete_stac_item",
    "delete_stac_collection",
    "rebuild_stac",
    "repoint_latest",
    "delete_blob",
    "rerun_cleanup",
]
ORDER: tuple[str, ...] = Verb.__args__  # type: ignore[attr-defined]  # orphans go before rebuilds


class Action(BaseModel):
    """One step of a repair; `outcome` is `planned` in a dry run."""

    model_config = ConfigDict(extra="forbid")

    action: Verb
    object: str
    release_id: str | None = None
    because: str  # the finding kind, or force_recreate
    outcome: Literal["planned", "done", "failed"] = "planned"
    detail: str = ""


def plan(conn: Connection, kinds: list[str] | None, force_recreate: bool) -> tuple[str, list[Action]]:
    """(the report's job id, the actions) for the latest report's findings of `kinds` (all when
    None); `force_recreate` rebuilds the STAC of every served release. Read in one transaction."""
    with conn.transaction():
        report = conn.execute(queries("consistency")["latest_report"]).fetchone()
        if report is None:
            raise NotFound("No catalog check has run yet.", "Run POST /api/admin/catalog/check first.")
        findings = [
            Finding.model_validate(dict(row))
            for row in rows(conn, "findings_of", {"job_id": report["job_id"], "kinds": kinds, "limit": None})
        ]
        actions = [*_orphans(conn, findings), *_relinks(conn, findings, force_recreate)]
    actions.sort(key=lambda a: ORDER.index(a.action))
    return report["job_id"], actions


def _of(findings: list[Finding], repair: str) -> list[Finding]:
    return [f for f in findings if f.repair == repair]


def _orphans(conn: Connection, findings: list[Finding]) -> Iterator[Action]:
    """Deletions, each only if its object is still unowned now."""
    yield from _tables(conn, _of(findings, "drop_table"))
    yield from _catalog_rows(conn, _of(findings, "delete_catalog_row"))
    for verb in ("delete_stac_item", "delete_stac_collection"):
        for f in _of(findings, verb):
            collection, _, item = f.object.partition("/")
            query = "orphan_stac_items" if item else "orphan_stac_collections"
            params = stac_params(collection, item or None)
            if conn.execute(queries("consistency")[query], params).fetchone():
                yield Action(action=verb, object=f.object, because=f.kind)  # type: ignore[arg-type]
    for batch in batches(_of(findings, "delete_blob")):
        by_path = {f.object.partition("/")[2]: f for f in batch}
        for path in unowned(conn, "silver", list(by_path)):
            yield Action(action="delete_blob", object=by_path[path].object, because=by_path[path].kind)
    for f in _of(findings, "rerun_cleanup"):
        if conn.execute(queries("consistency")["failed_job"], {"job_id": f.object}).fetchone():
            yield Action(action="rerun_cleanup", object=f.object, because=f.kind)


def _tables(conn: Connection, findings: list[Finding]) -> Iterator[Action]:
    for batch in batches(findings):
        query, params = queries("consistency")["unowned_relations"], unowned_params([f.object for f in batch])
        still = {f"{r['schema_name']}.{r['table_name']}": r["kind"] for r in conn.execute(query, params)}
        # Views before the tables they might read.
        for f in sorted(batch, key=lambda f: still.get(f.object) != "v"):
            if f.object in still:
                yield Action(action="drop_table", object=f.object, because=f.kind)


def _catalog_rows(conn: Connection, findings: list[Finding]) -> Iterator[Action]:
    for batch in batches(findings):
        query, params = queries("consistency")["missing_tables"], {"only": [f.object for f in batch]}
        unowned_rows = {
            f"{r['schema_name']}.{r['table_name']}"
            for r in conn.execute(query, params)
            if r["release_id"] is None
        }
        for f in batch:
            if f.object in unowned_rows:
                yield Action(action="delete_catalog_row", object=f.object, because=f.kind)


def _relinks(conn: Connection, findings: list[Finding], force_recreate: bool) -> Iterator[Action]:
    """STAC rebuilds (one per served release) and `_latest` re-points (one per asset)."""
    stac = _of(findings, "rebuild_stac")
    because = {f.release_id: f.kind for f in stac if f.kind == "missing_stac_item"}
    collections = [f.object for f in stac if f.kind == "missing_stac_collection"]
    params = {
        "key": stac_items.PUBLISHED,
        "all": force_recreate,
        "release_ids": list(because),
        "collections": collections,
    }
    for row in conn.execute(queries("consistency")["served_releases"], params):
        reason = (
            "force_recreate" if force_recreate else because.get(row["release_id"], "missing_stac_collection")
        )
        yield Action(
            action="rebuild_stac", object=row["release_id"], release_id=row["release_id"], because=reason
        )
    seen: set[str] = set()
    for f in _of(findings, "repoint_latest"):
        if f.release_id and f.release_id not in seen:
            seen.add(f.release_id)
            yield Action(action="repoint_latest", object=f.object, release_id=f.release_id, because=f.kind)


def apply(
    conn: Connection, storage: Storage, registry: JobRegistry, action: Action, job_id: str, actor: str
) -> Action:
    """Carry out one action in its own transaction (autocommit connection), with its audit row
    and timeline events; a failure is recorded and the repair goes on."""
    try:
        with conn.transaction():
            _carry_out(conn, storage, registry, action)
            done = action.model_copy(update={"outcome": "done"})
            _record(conn, done, job_id, actor)
    except Exception as exc:  # recorded with the action; the next check finds it again
        failed = action.model_copy(update={"outcome": "failed", "detail": f"{type(exc).__name__}: {exc}"})
        with conn.transaction():
            _record(conn, failed, job_id, actor)
        return failed
    return done


def _carry_out(conn: Connection, storage: Storage, registry: JobRegistry, action: Action) -> None:
    match action.action:
        case "drop_table" | "delete_catalog_row":
            schema, _, name = action.object.partition(".")
            drop_relation(conn, schema, name)
        case "delete_stac_item":
            collection, _, item = action.object.partition("/")
            pgstac.withdraw(
                conn, {"collection_id": collection, "item_ids": [item], "created_collection": False}
            )
        case "delete_stac_collection":
            pgstac.withdraw(
                conn, {"collection_id": action.object, "item_ids": [], "created_collection": True}
            )
        case "rebuild_stac":
            _rebuild_stac(conn, str(action.release_id))
        case "repoint_latest":
            refresh_latest(conn, lock_release(conn, str(action.release_id)))
        case "delete_blob":
            container, _, path = action.object.partition("/")
            storage.delete(container, path)
        case "rerun_cleanup":
            job = fetch_one(conn, queries("consistency")["failed_job"], {"job_id": action.object})
            job_type = registry.get(job["job_type"])
            if job_type.on_failure is not None:
                job_type.on_failure(conn, storage, job_type.load(job["parameters"]), job["job_id"])
            _event(conn, job["job_id"], "cleanup_repaired", "cleanup rerun by the catalog repair", {})


def _rebuild_stac(conn: Connection, release_id: str) -> None:
    """Publish the release's STAC again: upserts its items and recreates a lost collection."""
    release = lock_release(conn, release_id)
    stac_items.publish(conn, release, str(release.version_id), str(release.reviewer))


def _record(conn: Connection, action: Action, job_id: str, actor: str) -> None:
    q = queries("consistency")
    conn.execute(
        q["audit"],
        {
            "job_id": job_id,
            "actor": actor,
            "action": action.action,
            "object": action.object,
            "release_id": action.release_id,
            "outcome": action.outcome,
            "detail": action.detail,
        },
    )
    data = {"actor": actor, "repair_job": job_id, **action.model_dump(mode="json")}
    message = f"{action.action} {action.object}: {action.outcome}"
    _event(conn, job_id, "catalog_repair", message, data)
    if action.release_id:
        owner = conn.execute(q["job_of_release"], {"release_id": action.release_id}).fetchone()
        if owner and owner["job_id"]:
            _event(conn, owner["job_id"], "catalog_repair", message, data)


def _event(conn: Connection, job_id: str, kind: str, message: str, data: dict[str, Any]) -> None:
    conn.execute(
        queries("orchestration")["event"],
        {
            "job_id": job_id,
            "task_id": None,
            "stage": None,
            "kind": kind,
            "message": message,
            "duration_ms": None,
            "data": Jsonb(data),
        },
    )
