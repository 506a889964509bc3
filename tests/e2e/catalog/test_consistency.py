"""Sabotage a populated catalog in every way SPEC §12 names; the check reports each finding once,
a dry-run repair changes nothing, a real repair heals what can be healed, and a second check
reports only what needs a resubmission (a deleted COG, a dropped served table)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from terrace.auth import Role
from terrace.catalog.unpublish import unpublish
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.catalog.support import publish, snapshot, wait_job


def check(api: httpx.Client, admin: str) -> list[tuple[str, str, str | None]]:
    started = api.post("/api/admin/catalog/check", json={"grace_seconds": 0}, headers=bearer(admin))
    assert started.status_code == 202, started.text
    job = wait_job(api, admin, started.json()["job_id"])
    assert job["status"] == "completed", job
    report = api.get("/api/admin/catalog/report", headers=bearer(admin)).json()
    assert report["job_id"] == started.json()["job_id"]
    assert sum(report["counts"].values()) == report["total"] == len(report["findings"])
    return sorted((f["kind"], f["object"], f["release_id"]) for f in report["findings"])


def repair(api: httpx.Client, admin: str, **body: Any) -> list[dict[str, Any]]:
    started = api.post("/api/admin/catalog/repair", json=body, headers=bearer(admin))
    assert started.status_code == 202, started.text
    job = wait_job(api, admin, started.json()["job_id"])
    assert job["status"] == "completed", job
    return job["result"]["actions"]


def terrace(api: httpx.Client, key: str, home: Path, *args: str) -> str:
    """Run the `terrace` command against the live API; its standard output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env |= {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": key, "TERRACE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "terrace", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def sabotage(owner_url: str, app_url: str, storage: Storage, ids: dict[str, str]) -> dict[str, Any]:
    """Break the catalog; returns what was broken."""
    with psycopg.connect(owner_url, row_factory=dict_row, autocommit=True) as conn:
        cog = conn.execute(
            "SELECT path, thumbnail_path FROM app.cog_metadata WHERE release_id = %s", (ids["relief"],)
        ).fetchone()
        assert cog is not None
        conn.execute("SET search_path = pgstac, public")
        item = conn.execute("SELECT pgstac.get_item('relief-java-v1', 'relief') AS item").fetchone()
        conn.execute("DROP TABLE geo.roads_jakarta_v1 CASCADE")  # takes its _latest view along
        conn.execute("DROP VIEW geo.floods_jakarta_latest")
        conn.execute("SELECT pgstac.delete_item('relief-java-v1', 'relief')")
        # An item of a version no longer served (say, restored from an old backup).
        ghost = {**item["item"], "id": "ghost-item"}  # type: ignore[index]
        ghost["properties"] = {**ghost["properties"], "app:version_id": "v9"}
        conn.execute("SELECT pgstac.create_item(%s)", (Jsonb(ghost),))
        conn.execute(
            "INSERT INTO app.job_events (job_id, kind, message) "
            "VALUES (%s, 'cleanup_failed', 'OSError: storage unreachable')",
            (ids["failed_job"],),
        )
    with psycopg.connect(app_url, row_factory=dict_row) as conn:
        conn.execute("CREATE TABLE geo_draft.stray_table (id int)")
        # An unpublish whose process died after its commit, before deleting the release's files.
        unpublish(conn, ids["bandung"], "test")
    storage.delete("silver", cog["path"])
    storage.delete("silver", cog["thumbnail_path"])
    storage.put("silver", "cogs/ghost/town/ord1-r1/ghost.tif", b"not a cog")
    return {"cog": f"silver/{cog['path']}", "thumbnail": f"silver/{cog['thumbnail_path']}"}


def test_sabotage_check_repair_check(
    platform_api: httpx.Client,
    keys: dict[Role, str],
    owner_database_url: str,
    database_url: str,
    storage: Storage,
    tmp_path: Path,
) -> None:
    api, admin = platform_api, keys[Role.admin]
    ids = publish(api, {role.value: key for role, key in keys.items()}, tmp_path)
    assert check(api, admin) == [], "a healthy catalog has no findings"

    broken = sabotage(owner_database_url, database_url, storage, ids)
    root = storage.local_path("silver", "x").parent  # type: ignore[union-attr]
    leftovers = sorted(
        f"silver/{p.relative_to(root)}" for p in (root / "ingest/floods/bandung").rglob("*") if p.is_file()
    )
    assert leftovers, "the interrupted unpublish left the draft's repair report"
    found = check(api, admin)
    relief, roads = ids["relief"], ids["roads"]
    assert found == sorted(
        [
            ("failed_cleanup", ids["failed_job"], None),
            ("missing_blob", broken["cog"], relief),
            ("missing_blob", broken["thumbnail"], relief),
            ("missing_latest_view", "geo.floods_jakarta_latest", ids["floods"]),
            ("missing_stac_item", "relief/relief-java-v1", relief),
            ("missing_table", "geo.roads_jakarta_v1", roads),
            ("orphan_blob", "silver/cogs/ghost/town/ord1-r1/ghost.tif", None),
            *(("orphan_blob", blob, None) for blob in leftovers),
            ("orphan_stac_item", "relief/ghost-item", None),
            ("orphan_table", "geo_draft.stray_table", None),
            ("release_outputs_missing", relief, relief),
            ("release_outputs_missing", roads, roads),
        ]
    )

    before = snapshot(database_url, storage)
    planned = repair(api, admin)
    assert snapshot(database_url, storage) == before, "a dry run changes nothing"
    assert {a["outcome"] for a in planned} == {"planned"}
    assert sorted((a["action"], a["object"]) for a in planned) == sorted(
        [
            ("drop_table", "geo_draft.stray_table"),
            ("delete_stac_item", "relief/ghost-item"),
            ("rebuild_stac", relief),
            ("repoint_latest", "geo.floods_jakarta_latest"),
            ("delete_blob", "silver/cogs/ghost/town/ord1-r1/ghost.tif"),
            *(("delete_blob", blob) for blob in leftovers),
            ("rerun_cleanup", ids["failed_job"]),
        ]
    )

    done = repair(api, admin, dry_run=False)
    assert [(a["action"], a["object"]) for a in done] == [(a["action"], a["object"]) for a in planned]
    assert {a["outcome"] for a in done} == {"done"}, done
    after = snapshot(database_url, storage)
    assert ("relief", "relief-java-v1") in {(i["collection"], i["id"]) for i in after["items"]}
    assert {"table_schema": "geo", "table_name": "floods_jakarta_latest"} in after["tables"]
    assert {"table_schema": "geo_draft", "table_name": "stray_table"} not in after["tables"]
    assert not any(b.startswith(("cogs/ghost/", "ingest/floods/bandung/")) for b in after["blobs"])
    served = api.get("/features/collections/floods_jakarta_latest/items?limit=100", headers=bearer(admin))
    assert served.status_code == 200 and len(served.json()["features"]) == 20

    # What only a resubmission restores stays reported: the deleted COG and the dropped table.
    assert check(api, admin) == sorted(
        [
            ("missing_blob", broken["cog"], relief),
            ("missing_blob", broken["thumbnail"], relief),
            ("missing_table", "geo.roads_jakarta_v1", roads),
            ("release_outputs_missing", relief, relief),
            ("release_outputs_missing", roads, roads),
        ]
    )
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        audit = conn.execute("SELECT actor, action, outcome FROM app.catalog_audit").fetchall()
        events = conn.execute(
            "SELECT kind FROM app.job_events WHERE job_id = %s ORDER BY event_id", (ids["failed_job"],)
        ).fetchall()
    assert len(audit) == len(done) and all(a["actor"].startswith("test admin") for a in audit)
    assert events[-1]["kind"] == "cleanup_repaired"

    # The same from a terminal: a check shows what is left, a dry run lists no action for it.
    shown = terrace(api, admin, tmp_path, "catalog", "check", "--grace-seconds", "0")
    assert "5 finding(s)" in shown and "missing_blob" in shown and broken["cog"] in shown
    listed = terrace(
        api, admin, tmp_path, "catalog", "repair", "--kind", "missing_blob", "--kind", "orphan_blob"
    )
    assert "0 action(s) planned; run with --apply to take them" in listed
