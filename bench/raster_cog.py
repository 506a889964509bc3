"""Raster to COG end to end: process_raster through CoreMachine against gdal_translate and rio cogeo.

Generates (seeded) a 3-band uint8 image of 10000x10000 and a 1-band float32 DEM of 8000x8000 as
plain striped GeoTIFFs, turns each into a COG with internal overviews (DEFLATE, 512 blocks) and
reports input MB/s (uncompressed bytes / seconds) and peak RSS for:

- terrace: job submitted → COG in silver, statistics, thumbnail, SHA-256, cog_metadata row and
  draft STAC item (2 worker processes, `target_crs native` so that no method reprojects);
- gdal_translate -of COG -co COMPRESS=DEFLATE -co NUM_THREADS=ALL_CPUS (Debian gdal-bin);
- rio cogeo create --cog-profile deflate --use-cog-driver --threads ALL_CPUS.

Every output must pass rio-cogeo's validation.

With `--large-gb N` it instead runs sources above the tiling threshold through the tiled path
(one COG per 8192-pixel tile, written by parallel tasks, plus a VRT mosaic): an RGB image of N GB
and a float32 DEM of N/2 GB (uncompressed), built by GDAL from a seeded textured tile. Besides
the rates it checks that web-map tiles read (rio-tiler, as titiler serves them) from the mosaic
equal those read from gdal_translate's single COG: exactly at the native zoom, and reports the
largest difference at a zoom served from overviews. The sources are deleted afterwards.

    .venv/bin/python bench/raster_cog.py [--scale 1.0] [--large-gb 4]
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
from rio_tiler.io import Reader
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


def generate_large(path: Path, size: int, bands: int, dtype: str, seed: int) -> Path:
    """A striped, uncompressed GeoTIFF of `size` pixels a side, a seeded textured 4096-pixel tile
    repeated with a shift per row of tiles (built in memory, written by GDAL in slabs)."""
    texture = generate(path.with_suffix(".texture.tif"), 4096, bands, dtype, seed)
    with rasterio.open(texture) as ds:
        tile = ds.read()
    texture.unlink()
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": bands,
        "dtype": dtype,
        "crs": "EPSG:32748",
        "transform": from_origin(600_000, 9_400_000, 10, 10),
        "BIGTIFF": "YES",
    }
    with rasterio.open(path, "w", **profile) as ds:
        for row0 in range(0, size, ROWS_PER_WRITE):
            rows = np.arange(row0, min(size, row0 + ROWS_PER_WRITE)) % 4096
            shift = (row0 // 4096) * 1000
            columns = (np.arange(size) + shift) % 4096
            ds.write(tile[:, rows][:, :, columns], window=((row0, row0 + len(rows)), (0, size)))
    return path


def terrace(url: str, storage: Storage, file: Path, threshold: int | None = None) -> tuple[Timed, Path]:
    """process_raster on 2 worker processes, from submit to completion, and the COG (or, for a
    tiled source, the VRT mosaic) it wrote."""
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
    if threshold is not None:  # a quick run: small tiles too
        params.update(tile_threshold_bytes=threshold, tile_size=2048)
    timed = run_job(url, storage, "process_raster", params, workers=2, concurrency=1)
    folder = storage.local_path("silver", f"cogs/bench/{file.stem}/ord1-r1")
    assert folder is not None
    mosaic = folder / "mosaic.vrt"
    return timed, mosaic if mosaic.exists() else next(folder.glob("*.tif"))


def same_tiles(mosaic: Path, cog: Path, zooms: tuple[int, int]) -> str:
    """Web-map tiles read from the mosaic and from the single COG: identical at the native zoom
    (else SystemExit); the largest difference at the overview zoom, reported."""
    native, coarse = zooms
    with Reader(str(cog)) as single, Reader(str(mosaic)) as tiled:
        west, south, east, north = single.get_geographic_bounds(single.tms.rasterio_geographic_crs)
        middle = single.tms.tile((west + east) / 2, (south + north) / 2, native)
        picks = [(middle.x + dx, middle.y + dy, native) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        for x, y, z in picks:
            a, b = single.tile(x, y, z), tiled.tile(x, y, z)
            if not (np.array_equal(a.data, b.data, equal_nan=True) and np.array_equal(a.mask, b.mask)):
                raise SystemExit(f"tile {z}/{x}/{y} of the mosaic differs from the single COG's")
        middle = single.tms.tile((west + east) / 2, (south + north) / 2, coarse)
        a, b = single.tile(middle.x, middle.y, coarse), tiled.tile(middle.x, middle.y, coarse)
        both = (np.asarray(a.mask) > 0) & (np.asarray(b.mask) > 0)
        diff = np.nanmax(np.abs(a.data.astype("float64") - b.data.astype("float64"))[:, both])
    return f"{len(picks)} tiles at z{native} identical; z{coarse} max difference {diff:g}"


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
    options = ["COMPRESS=DEFLATE", "NUM_THREADS=ALL_CPUS", "BLOCKSIZE=512", "BIGTIFF=IF_SAFER"]
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
    """A COG's validation and shape; a mosaic's COGs each validated."""
    if path.suffix == ".vrt":
        cogs = sorted(path.parent.glob("*.tif"))
        for cog in cogs:
            check_cog(cog)
        megabytes = sum(c.stat().st_size for c in cogs) / 1e6
        return f"mosaic of {len(cogs)} valid COGs, {megabytes:.0f} MB"
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
    parser.add_argument(
        "--large-gb", type=float, default=0, help="Run the tiled path on an RGB of this size instead."
    )
    parser.add_argument(
        "--tile-threshold-mb", type=int, help="Tile above this size (default: Terrace's) for quick runs."
    )
    args = parser.parse_args()
    if args.large_gb:
        large(args.large_gb, args.tile_threshold_mb and args.tile_threshold_mb * 10**6)
        return
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


def edge(gigabytes: float, bytes_per_pixel: int) -> int:
    """The side, a multiple of 512, of a square raster of more than `gigabytes` GiB (so that 2 is
    above Terrace's default tiling threshold)."""
    return (int(np.sqrt(gigabytes * 2**30 / bytes_per_pixel)) // 512 + 1) * 512


def large(gigabytes: float, threshold: int | None) -> None:
    """The tiled path against gdal_translate, turn about: Terrace, gdal_translate, then tiles compared."""
    ratios = {}
    with bench_cluster() as (_, url, home):
        storage = Storage.local(home / "storage")
        storage.create_containers()
        print(f"machine: {os.cpu_count()} cores; GDAL {rasterio.__gdal_version__}; shared with other work")
        inputs = (
            ("rgb", edge(gigabytes, 3), 3, "uint8", 1),
            ("dem", edge(gigabytes / 2, 4), 1, "float32", 2),
        )
        for name, size, bands, dtype, seed in inputs:
            file = generate_large(home / f"{name}.tif", size, bands, dtype, seed)
            megabytes = size * size * bands * np.dtype(dtype).itemsize / 1e6
            print(f"{name}: {size}x{size}x{bands} {dtype} ({megabytes:.0f} MB uncompressed, striped GeoTIFF)")
            timed, mosaic = terrace(url, storage, file, threshold)
            ours = megabytes / timed.seconds
            report("terrace process_raster (tiled)", ours, timed.peak_rss_mb, mosaic)
            print(f"    {timed.stages}")
            single = home / f"{name}-gdal.tif"
            peer = measure(
                "gdal_translate -of COG (DEFLATE)", megabytes, partial(gdal_translate, file, single), single
            )
            print(f"  {same_tiles(mosaic, single, (14, 10))}", flush=True)
            ratios[name] = (ours, peer)
            for spent in (file, single, storage.local_path("bronze", f"bench/{file.name}")):
                if spent is not None:
                    spent.unlink(missing_ok=True)
    print_result("raster_cog_tiled_{case}_mb_per_s", "MB/s", "gdal_translate", ratios)


if __name__ == "__main__":
    main()
