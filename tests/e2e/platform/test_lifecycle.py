"""The release lifecycle as a user drives it: HTTP API, a real worker process, real PostGIS tables."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import psycopg
import pyogrio
import pytest

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import approve, latest, served_tables, submit, upload, wait_done
from tests.e2e.platform.data import write_mixed, write_points


def test_submit_approve_version_and_revoke(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    upload(api, submitter, write_points(tmp_path / "v1.gpkg", 50), "floods/v1.gpkg")
    first = submit(api, submitter, "floods/v1.gpkg")
    assert first.status_code == 202, first.text
    again = submit(api, submitter, "floods/v1.gpkg")
    assert again.status_code == 200 and again.json()["request_id"] == first.json()["request_id"]
    status = wait_done(api, submitter, first.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert status["outputs"] == [
        {
            "table_name": "floods_jakarta_ord1",
            "schema_name": "geo_draft",
            "geometry_type": "MULTIPOINT",
            "feature_count": 50,
            "table_role": "primary",
            "table_suffix": "",
        }
    ]
    assert approve(api, submitter, first.json()["release_id"]).status_code == 403
    approved = approve(api, reviewer, first.json()["release_id"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["version_id"] == "v1"
    job = api.get(f"/api/jobs/{first.json()['job_id']}", headers=bearer(reviewer)).json()
    assert job["status"] == "completed"
    assert served_tables(database_url) == ["floods_jakarta_latest", "floods_jakarta_v1"]
    assert latest(api, reviewer) == "v1"

    overwrite_v1 = submit(api, submitter, "floods/v1.gpkg", processing_options={"overwrite": True})
    assert overwrite_v1.status_code == 409 and "new version" in overwrite_v1.json()["remediation"]

    upload(api, submitter, write_points(tmp_path / "v2.gpkg", 70), "floods/v2.gpkg")
    second = submit(api, submitter, "floods/v2.gpkg")
    wait_done(api, submitter, second.json()["request_id"])
    approve(api, reviewer, second.json()["release_id"])
    assert latest(api, reviewer) == "v2"
    assert "floods_jakarta_v1" in served_tables(database_url)

    revoked = api.post(
        "/api/platform/revoke",
        json={"release_id": second.json()["release_id"], "reason": "bad"},
        headers=bearer(reviewer),
    )
    assert revoked.status_code == 200, revoked.text
    assert latest(api, reviewer) == "v1"
    versions = api.get("/api/platform/catalog/floods/jakarta/versions", headers=bearer(reviewer)).json()
    assert [(v["version_id"], v["approval_state"]) for v in versions] == [
        ("v1", "approved"),
        ("v2", "revoked"),
    ]


def test_overwrite_of_a_draft_bumps_revision_and_leaves_no_orphan(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    upload(api, submitter, write_points(tmp_path / "a.gpkg", 10), "floods/a.gpkg")
    first = submit(api, submitter, "floods/a.gpkg", version_id="2024")
    wait_done(api, submitter, first.json()["request_id"])
    upload(api, submitter, write_points(tmp_path / "b.gpkg", 20), "floods/a.gpkg")
    second = submit(
        api, submitter, "floods/a.gpkg", version_id="2024", processing_options={"overwrite": True}
    )
    assert second.status_code == 202, second.text
    assert second.json()["release_id"] == first.json()["release_id"] and second.json()["revision"] == 2
    status = wait_done(api, submitter, second.json()["request_id"])
    assert [o["feature_count"] for o in status["outputs"]] == [20]
    with psycopg.connect(database_url) as conn:
        drafts = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'geo_draft'"
        )
        assert drafts.fetchone()[0] == 1
        # The new revision is a transition like any other: audited, and told on the first job.
        audit = conn.execute("SELECT action::text, details FROM app.approval_audit").fetchall()
        assert audit == [("resubmit", {"revision": 2})]
        told = conn.execute(
            "SELECT count(*) FROM app.job_events WHERE job_id = %s AND kind = 'release_pending_review'",
            (first.json()["job_id"],),
        )
        assert told.fetchone()[0] == 1


def test_a_failed_release_submitted_again_with_the_option_its_error_names_is_processed_again(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    """The same file again is the same release; after a failure, new options rerun it."""
    api, submitter = platform_api, keys[Role.submitter]
    file = write_points(tmp_path / "two.gpkg", 5)
    table = pyogrio.read_arrow(file)[1]
    pyogrio.write_arrow(
        table,
        file,
        layer="gauges",
        append=True,
        geometry_name="geometry",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    upload(api, submitter, file, "floods/two.gpkg")
    first = submit(api, submitter, "floods/two.gpkg").json()
    failed = wait_done(api, submitter, first["request_id"])
    assert failed["job"]["status"] == "failed" and "layer" in failed["job"]["error"]["remediation"]
    assert submit(api, submitter, "floods/two.gpkg").json()["job_id"] == first["job_id"]  # nothing new
    again = submit(api, submitter, "floods/two.gpkg", processing_options={"layer": "gauges"}).json()
    assert again["release_id"] == first["release_id"] and again["job_id"] != first["job_id"]
    done = wait_done(api, submitter, again["request_id"])
    assert done["job"]["status"] == "awaiting_approval", done
    assert done["release"]["revision"] == 2 and done["outputs"][0]["feature_count"] == 5


def test_mixed_geometry_makes_three_tables_and_unpublish_drops_all(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage, tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    upload(api, submitter, write_mixed(tmp_path / "mixed.geojson"), "floods/mixed.geojson")
    submitted = submit(api, submitter, "floods/mixed.geojson").json()
    status = wait_done(api, submitter, submitted["request_id"])
    assert sorted(o["table_suffix"] for o in status["outputs"]) == ["_line", "_point", "_polygon"]
    dry = api.post(
        "/api/platform/unpublish", json={"release_id": submitted["release_id"]}, headers=bearer(reviewer)
    )
    assert len(dry.json()["tables"]) == 3 and dry.json()["dry_run"] is True
    done = api.post(
        "/api/platform/unpublish",
        json={"release_id": submitted["release_id"], "dry_run": False},
        headers=bearer(reviewer),
    )
    assert done.status_code == 200, done.text
    with psycopg.connect(database_url) as conn:
        left = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'floods%'")
        assert left.fetchone()[0] == 0
    silver = storage.local_path("silver", "ingest")
    assert silver is not None and not [p for p in silver.rglob("*") if p.is_file()]  # no work file, no report


def test_concurrent_approvals_of_two_drafts_with_one_version(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    releases = []
    for n in (1, 2):
        upload(api, submitter, write_points(tmp_path / f"{n}.gpkg", 5 + n), f"floods/{n}.gpkg")
        submitted = submit(api, submitter, f"floods/{n}.gpkg").json()
        wait_done(api, submitter, submitted["request_id"])
        releases.append(submitted["release_id"])
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def race(release_id: str) -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=60) as own:
            barrier.wait()
            codes.append(approve(own, reviewer, release_id, version_id="v7").status_code)

    threads = [threading.Thread(target=race, args=(r,)) for r in releases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409]


def test_bad_submissions_are_refused_and_create_nothing(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    missing = api.post(
        "/api/platform/submit?dry_run=true",
        headers=bearer(submitter),
        json={"dataset_id": "floods", "resource_id": "jakarta", "file_name": "floods/nope.gpkg"},
    )
    assert missing.status_code == 400 and "floods/nope.gpkg" in missing.json()["message"]
    bad_level = submit(api, submitter, "floods/nope.gpkg", access_level="Secret")
    assert bad_level.status_code == 400
    assert "public, ouo, restricted" in bad_level.json()["remediation"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.assets").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM app.asset_releases").fetchone()[0] == 0


@pytest.mark.parametrize("level", ["PUBLIC", "Ouo", "restricted"])
def test_access_level_is_case_insensitive_and_stored_lowercase(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path, level: str
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    upload(api, submitter, write_points(tmp_path / "p.gpkg", 3), "floods/p.gpkg")
    submitted = submit(api, submitter, "floods/p.gpkg", access_level=level)
    assert submitted.status_code == 202, submitted.text
    status = api.get(
        f"/api/platform/status/{submitted.json()['request_id']}", headers=bearer(submitter)
    ).json()
    assert status["release"]["access_level"] == level.lower()
