"""A large source on Azure Blob (Azurite) is processed by a `terrace worker` process configured as
a deployment would be, streamed from and to the container, never held whole in memory."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio.transform import from_origin
from rasterio.windows import Window

from terrace.auth import Role
from terrace.db.roles import RoleUrls
from terrace.storage import Storage
from tests.azurite.server import AzuriteServer
from tests.e2e.platform.client import submit, wait_done
from tests.e2e.processes import environment, running
from tests.integration.raster import files

pytestmark = pytest.mark.parametrize("storage", ["azurite"], indirect=True)
SIDE = 15_000  # one byte a pixel, with overviews and block padding: 300 MB
STRIP = 1_024


def large_cog(folder: Path) -> Path:
    """An uncompressed single-band COG of SIDE x SIDE pixels near Jakarta (written by strips)."""
    plain, cog = folder / "plain.tif", folder / "big.tif"
    profile = {"driver": "GTiff", "width": SIDE, "height": SIDE, "count": 1, "dtype": "uint8"}
    transform = from_origin(106.0, -6.0, 0.0001, 0.0001)
    columns = (np.arange(SIDE) // 64).astype("uint8")
    with rasterio.open(plain, "w", **profile, tiled=True, crs="EPSG:4326", transform=transform) as dataset:
        for row in range(0, SIDE, STRIP):
            height = min(STRIP, SIDE - row)
            rows = (np.arange(row, row + height) // 64).astype("uint8")
            dataset.write(np.add.outer(rows, columns)[None], window=Window(0, row, SIDE, height))
    rasterio.shutil.copy(plain, cog, driver="COG", COMPRESS="NONE", OVERVIEW_RESAMPLING="NEAREST")
    plain.unlink()
    return cog


def memory_kib(pid: int, field: str) -> int:
    """A VmRSS (now) or VmHWM (peak) figure of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def test_a_300_mb_cog_on_azure_is_registered_with_bounded_worker_memory(
    api: httpx.Client,
    keys: dict[Role, str],
    databases: RoleUrls,
    storage: Storage,
    azurite: AzuriteServer,
    tmp_path: Path,
) -> None:
    submitter = keys[Role.submitter]
    source = large_cog(tmp_path)
    size = source.stat().st_size
    assert size > 290_000_000
    storage.put("bronze", "big/big.tif", source)  # streamed to the container in parts
    storage.put("bronze", "small/small.tif", files.rgb(tmp_path / "small.tif", size=256))
    source.unlink()

    env = environment(databases, tmp_path, TERRACE_STORAGE_URL=storage.root_url, **azurite.environment())
    with running((["terrace", "worker"], env, tmp_path / "worker.log")) as (worker,):
        # A small raster first, so that the modules and pools of raster processing are loaded
        first = submit(api, submitter, "small/small.tif", dataset_id="relief", resource_id="small")
        assert wait_done(api, submitter, first.json()["request_id"])["job"]["status"] == "awaiting_approval"
        ready = memory_kib(worker.pid, "VmRSS")
        submitted = submit(api, submitter, "big/big.tif", dataset_id="relief", resource_id="big")
        assert submitted.status_code == 202, submitted.text
        status = wait_done(api, submitter, submitted.json()["request_id"], timeout=240)
        peak = memory_kib(worker.pid, "VmHWM")
    assert status["job"]["status"] == "awaiting_approval", status
    (cog,) = status["outputs"]["cogs"]
    assert [w["code"] for w in status["warnings"]] == ["REGISTERED_AS_IS"]
    with rasterio.Env(**storage.gdal_options), rasterio.open(storage.gdal_path("silver", cog["path"])) as ds:
        assert (ds.width, ds.height) == (SIDE, SIDE) and ds.overviews(1)
    grown = (peak - ready) * 1024
    print(f"worker RSS ready {ready >> 10} MiB, peak {peak >> 10} MiB, source {size >> 20} MiB")
    assert grown < size / 2, f"the worker grew by {grown >> 20} MiB for a {size >> 20} MiB source"
