"""Shapefiles as users hold them: a .shp with its sidecar files, through the CLI, the API and the web UI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pyogrio
import shapely

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.platform.client import submit, upload, wait_done
from tests.security.test_sessions import csrf_of, sign_in

COUNT = 12


def write_tracts(folder: Path) -> Path:
    """A UTM shapefile (.shp .shx .dbf .prj .cpg) of COUNT square polygons with a name each."""
    folder.mkdir(exist_ok=True)
    x, y = np.arange(COUNT) * 100.0 + 700000, np.full(COUNT, 9300000.0)
    squares = shapely.box(x, y, x + 50, y + 50)
    table = pa.table({"name": [f"tract {n}" for n in range(COUNT)], "geometry": shapely.to_wkb(squares)})
    path = folder / "Tracts.shp"
    pyogrio.write_arrow(
        table,
        path,
        driver="ESRI Shapefile",
        geometry_name="geometry",
        geometry_type="Polygon",
        crs="EPSG:32748",
    )
    return path


def counts(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        releases = conn.execute("SELECT count(*) FROM app.asset_releases").fetchone()
        jobs = conn.execute("SELECT count(*) FROM app.jobs").fetchone()
    assert releases is not None and jobs is not None
    return releases[0], jobs[0]


def test_terrace_submit_uploads_the_sidecars_and_loads_every_feature(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    shp = write_tracts(tmp_path / "data")
    (tmp_path / "data" / "unrelated.dbf").write_bytes(b"not part of it")
    (tmp_path / "data" / "Tracts.qix").write_bytes(b"spatial index")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env |= {
        "TERRACE_URL": str(platform_api.base_url),
        "TERRACE_API_KEY": keys[Role.submitter],
        "TERRACE_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "terrace", "submit", str(shp), "--dataset", "census", "--resource", "tracts"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status:     awaiting_approval" in done.stdout
    assert f"{COUNT} features" in done.stdout
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"):
        assert storage.exists("bronze", f"census/tracts/Tracts{suffix}"), suffix
    assert not storage.exists("bronze", "census/tracts/unrelated.dbf")


def test_a_shp_without_its_shx_is_an_input_error_and_creates_nothing(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage, tmp_path: Path
) -> None:
    submitter = keys[Role.submitter]
    shp = write_tracts(tmp_path)
    for suffix in (".shp", ".dbf", ".prj"):
        upload(platform_api, submitter, shp.with_suffix(suffix), f"census/Tracts{suffix}")
    before = counts(database_url)
    dry = platform_api.post(
        "/api/platform/submit?dry_run=true",
        json={"dataset_id": "census", "resource_id": "tracts", "file_name": "census/Tracts.shp"},
        headers=bearer(submitter),
    )
    real = submit(platform_api, submitter, "census/Tracts.shp")
    for response in (dry, real):
        assert response.status_code == 400, response.text
        body = response.json()
        assert "Tracts.shx" in body["message"] and "bronze/census/Tracts.shp" in body["message"]
        assert "beside" in body["remediation"]
        assert str(tmp_path) not in response.text
    assert counts(database_url) == before


def test_the_web_ui_uploads_a_shapefile_set_as_one_vector_release(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, storage: Storage, tmp_path: Path
) -> None:
    shp = write_tracts(tmp_path)
    files = [
        ("file", (f"Tracts{suffix}", shp.with_suffix(suffix).read_bytes(), "application/octet-stream"))
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg")
    ]
    fields = {"dataset_id": "census", "resource_id": "tracts", "access_level": "public"}
    with httpx.Client(base_url=platform_api.base_url, timeout=30) as browser:
        assert sign_in(browser, keys[Role.submitter]).status_code == 303
        csrf = csrf_of(browser.get("/interface/submit"))
        checked = browser.post("/interface/submit/check", data={"csrf": csrf, **fields}, files=files)
        assert checked.status_code == 200, checked.text
        assert re.findall(r'name="path" value="([^"]*)"', checked.text) == ["census/tracts/Tracts.shp"]
        assert "<dd>vector</dd>" in checked.text and "bronze/census/tracts/Tracts.dbf" in checked.text
        live = browser.post(
            "/interface/submit/live",
            data={"csrf": csrf_of(checked), "path": "census/tracts/Tracts.shp", **fields},
        )
    assert live.status_code == 303, live.text
    job_id = live.headers["location"].rsplit("/", 1)[-1]
    status = wait_done(platform_api, keys[Role.submitter], job_id)
    assert status["job"]["status"] == "awaiting_approval", status
    assert [(o["geometry_type"], o["feature_count"]) for o in status["outputs"]] == [("MULTIPOLYGON", COUNT)]
    with psycopg.connect(database_url) as conn:
        releases = conn.execute(
            "SELECT data_type::text FROM app.asset_releases JOIN app.assets USING (asset_id)"
        ).fetchall()
    assert releases == [("vector",)]
