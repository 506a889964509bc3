"""Raster to COG end to end: process_raster through CoreMachine against gdal_translate and rio cogeo.

Generates (seeded) a 3-band uint8 image of 10000x10000 and a 1-band float32 DEM of 8000x8000 as
plain striped GeoTIFFs, turns each into a COG with internal overviews (DEFLATE, 512 blocks) and
reports input MB/s (uncompressed bytes / seconds) and peak RSS for:

- terrace: job submitted → COG in silver, statistics, thumbnail, SHA-256, cog_metadata row and
  draft STAC item (2 worker processes, `target_crs native` so that no method reprojects);
- gdal_translate -of COG -co COMPRESS=DEFLATE -co NUM_THREADS=ALL_CPUS (Debian gdal-bin);
- rio cogeo create --cog-profile deflate --use-cog-driver --threads ALL_CPUS.

Every output must pass rio-cogeo's validation.

    .venv/bin/python bench/raster_cog.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate
from terrace_jobs import Timed, bench_cluster, peak_rss_mb, print_result, run_job

from terrace.catalog import identity
from terrace.storage import Storage

ROWS_PER_WRITE = 1000


def smooth_band(rng: np.random.Generator, size: int, row0: int, rows: int, cells: int = 24) -> np.ndarray:
    """Rows [row0, row0+rows) of a smooth random surface in [0, 1], plus fine texture."""
    coarse = rng.random((cells, cells))
    y = np.linspace(0, cells - 1, size)[row0 : row0 + rows]
    x = np.linspace(0, cells - 1, size)
    y0, x0 = np.floor(y).astype(int).clip(0, cells - 2), np.floor(x).astype(int).clip(0, cells - 2)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    top = coarse[y0][:, x0] * (1 - fx) + coarse[y0][:, x0 + 1] * fx
    bottom = coarse[y0 + 1][:, x0] * (1 - fx) + coarse[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def generate(path: Path, size: int, bands: int, dtype: str, seed: int) -> Path:
    """A striped, uncompressed GeoTIFF in UTM written a slab of rows at a time."""
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": bands,
        "dtype": dtype,
        "crs": "EPSG:32748",
        "transform": from_origin(600_000, 9_400_000, 10, 10),
    }
    with rasterio.open(path, "w", **profile) as ds:
        for row0 in range(0, size, ROWS_PER_WRITE):
            rows = min(ROWS_PER_WRITE, size - row0)
            noise = np.random.default_rng(seed + row0)
            slab = np.stack(
                [smooth_band(np.random.default_rng(seed + b), size, row0, rows) for b in range(bands)]
            )
            slab += noise.normal(0, 0.01, slab.shape)
            if dtype == "uint8":
                data = (slab.clip(0, 1) * 255).astype("uint8")
            else:
                data = (slab * 2500 + 10).astype(dtype)
            ds.write(data, window=((row0, row0 + rows), (0, size)))
    return path


def terrace(url: str, storage: Storage, file: Path) -> tuple[Timed, Path]:
    """process_raster on 2 worker processes, from submit to completion, and the COG it wrote."""
    storage.put("bronze", f"bench/{file.name}", file)
    params = {
        "path": f"bench/{file.name}",
        "dataset_id": "bench",
        "resource_id": file.stem,
        "release_id": identity.release_id(identity.asset_id("bench", file.stem), "bench"),
        "version_ordinal": 1,
        "access_level": "public",
        "target_crs": "native",
    }
    timed = run_job(url, storage, "process_raster", params, workers=2, concurrency=1)
    output = storage.local_path("silver", f"cogs/bench/{file.stem}/ord1-r1/{file.stem}.tif")
    assert output is not None
    return timed, output


def run_tool(command: list[str]) -> tuple[float, float]:
    """Seconds the command took and its peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    # Sampled from /proc: wait4's ru_maxrss would count the memory of this process at fork time.
    rss = 0.0
    while process.poll() is None:
        rss = max(rss, peak_rss_mb(process.pid))
        time.sleep(0.02)
    if process.returncode:
        raise SystemExit(f"{command[0]} failed with status {process.returncode}")
    return time.perf_counter() - started, rss


def gdal_translate(file: Path, output: Path) -> tuple[float, float]:
    options = ["COMPRESS=DEFLATE", "NUM_THREADS=ALL_CPUS", "BLOCKSIZE=512"]
    return run_tool(
        [
            "gdal_translate",
            "-q",
            "-of",
            "COG",
            *[a for o in options for a in ("-co", o)],
            str(file),
            str(output),
        ]
    )


def rio_cogeo(file: Path, output: Path) -> tuple[float, float]:
    rio = Path(sys.executable).with_name("rio")
    return run_tool(
        [str(rio), "cogeo", "create", "-q", "--cog-profile", "deflate", "--use-cog-driver",
         "--blocksize", "512", "--overview-blocksize", "512", "--threads", "ALL_CPUS", str(file), str(output)]
    )  # fmt: skip


def check_cog(path: Path) -> str:
    valid, errors, _ = cog_validate(str(path), quiet=True)
    if not valid:
        raise SystemExit(f"{path} is not a valid COG: {errors}")
    with rasterio.open(path) as ds:
        compression = ds.compression.name if ds.compression else "uncompressed"
        return f"{path.stat().st_size / 1e6:.0f} MB, {len(ds.overviews(1))} overviews, {compression}"


def measure(name: str, megabytes: float, run: Callable[[], tuple[float, float]], output: Path) -> float:
    seconds, rss = run()
    report(name, megabytes / seconds, rss, output)
    return megabytes / seconds


def report(name: str, rate: float, rss: float, output: Path) -> None:
    print(
        f"  {name:<34} {rate:8.1f} MB/s  peak RSS {rss:6.0f} MB  valid COG ({check_cog(output)})", flush=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="Edge length factor for quick runs.")
    args = parser.parse_args()
    ratios = {}
    with bench_cluster() as (cluster, url, home):
        storage = Storage.local(home / "storage")
        storage.create_containers()
        versions = f"GDAL {rasterio.__gdal_version__}; rasterio {rasterio.__version__}"
        print(f"machine: {os.cpu_count()} cores; {versions}")
        inputs = (
            ("rgb", int(10_000 * args.scale), 3, "uint8", 1),
            ("dem", int(8_000 * args.scale), 1, "float32", 2),
        )
        for name, size, bands, dtype, seed in inputs:
            file = generate(home / f"{name}.tif", size, bands, dtype, seed)
            megabytes = size * size * bands * np.dtype(dtype).itemsize / 1e6
            print(f"{name}: {size}x{size}x{bands} {dtype} ({megabytes:.0f} MB uncompressed, striped GeoTIFF)")
            timed, cog = terrace(url, storage, file)
            ours = megabytes / timed.seconds
            report("terrace process_raster", ours, timed.peak_rss_mb, cog)
            print(f"    {timed.stages}")
            peer = measure(
                "gdal_translate -of COG (DEFLATE)",
                megabytes,
                partial(gdal_translate, file, home / "g.tif"),
                home / "g.tif",
            )
            measure(
                "rio cogeo create (deflate)",
                megabytes,
                partial(rio_cogeo, file, home / "r.tif"),
                home / "r.tif",
            )
            ratios[name] = (ours, peer)
    print_result("raster_cog_{case}_mb_per_s", "MB/s", "gdal_translate", ratios)


if __name__ == "__main__":
    main()
