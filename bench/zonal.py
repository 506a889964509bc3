"""Zonal statistics end to end: the zonal_statistics job against exactextract's own Python API.

Generates (seeded) a 10000x10000 float32 raster over 1.35 x 1.35 degrees near the equator, publishes
it as a served raster release (process_raster, approved; not timed), writes the H3 cells covering it
at resolution 9 (about 190,000 zones) into `h3.cells`, and computes count, sum, mean, min and max of
every cell:

- terrace: POST /api/analytics/zonal's use case → zonal_statistics on 2 worker processes (one task
  each) → the statistics table loaded, indexed and catalogued as a draft release;
- exactextract: `exact_extract(cog, features, ops)` in one process on the same COG and the same cell
  polygons (GeoJSON features, the library's own input), feature-sequential and raster-sequential;
  the faster is the peer. Reading the zones and keeping the results are not counted for it;
- rasterstats `zonal_stats` (centre-sampled, not coverage-weighted) on a sample of the cells, for
  context, extrapolated to all of them.

Terrace's values must equal exactextract's within 1e-9 (relative); the benchmark stops otherwise.
Runs alternate Terrace and exactextract so that a busy machine slows both.

    .venv/bin/python bench/zonal.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import h3
import numpy as np
import psycopg
import pyarrow as pa
import rasterio
import shapely
from exactextract import exact_extract
from h3ronpy.vector import cells_to_wkb_polygons
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from rasterio.transform import from_origin
from terrace_jobs import bench_cluster, peak_rss_mb, role_env, stage_times

from terrace.analytics.zonal.params import ZonalRequest
from terrace.analytics.zonal.submit import submit_zonal
from terrace.auth import Principal, Role
from terrace.catalog import review
from terrace.db.pool import open_pool
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.platform.processing import JobDefaults
from terrace.platform.requests import SubmitRequest
from terrace.platform.submit import submit_release
from terrace.storage import Storage

EXTENT = 1.35  # degrees, from (100, 0)
RESOLUTION = 9
STATS = ["count", "sum", "mean", "min", "max"]
ADMIN = Principal(key_id="bench", name="bench", role=Role.admin)
SAMPLE = 5_000  # cells rasterstats summarises


def generate(path: Path, size: int) -> Path:
    """A smooth float32 surface with fine noise, as a tiled GeoTIFF in EPSG:4326."""
    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "float32",
        "crs": "EPSG:4326", "transform": from_origin(100.0, EXTENT, EXTENT / size, EXTENT / size),
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate", "nodata": -9999,
    }  # fmt: skip
    rng = np.random.default_rng(7)
    x = np.arange(size, dtype=np.float32)
    with rasterio.open(path, "w", **profile) as ds:
        for row0 in range(0, size, 1024):
            rows = min(1024, size - row0)
            y = np.arange(row0, row0 + rows, dtype=np.float32)[:, None]
            slab = np.sin(x / 700) * np.cos(y / 900) * 100 + x * 0.01 + rng.random((rows, size), np.float32)
            ds.write(slab.astype(np.float32)[None], window=((row0, row0 + rows), (0, size)))
    return path


def write_cells(url: str, grid: str, extent: float) -> int:
    """The H3 cells whose centres fall in the raster's extent, into `h3.cells` (the grid bootstrap
    job's table, as a ready grid); h3-py finds them, h3ronpy draws them."""
    box = h3.LatLngPoly([(0, 100), (0, 100 + extent), (extent, 100 + extent), (extent, 100)])
    cells = np.array(sorted(h3.str_to_int(c) for c in h3.polygon_to_cells(box, RESOLUTION)), np.uint64)
    polygons = shapely.from_wkb(
        pa.array(cells_to_wkb_polygons(pa.array(cells))).to_numpy(zero_copy_only=False)
    )
    geometries = shapely.set_srid(shapely.multipolygons(polygons[:, None].tolist()), 4326)
    ewkb = shapely.to_wkb(geometries, hex=True, include_srid=True)
    parents = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), RESOLUTION - 1)) for c in cells]
    with psycopg.connect(url) as conn:
        # The cells of the raster's box, written directly (the h3_grid job's own speed is bench/h3_grid.py).
        conn.execute(
            "INSERT INTO h3.grids (name, resolutions, area, status) VALUES (%s, %s, %s, 'ready')",
            (grid, [RESOLUTION], Jsonb({"bbox": [100.0, 0.0, 100.0 + extent, extent]})),
        )
        with conn.cursor().copy("COPY h3.cells FROM STDIN") as copy:
            for cell, parent, geometry in zip(cells.tolist(), parents, ewkb, strict=True):
                copy.write_row((grid, RESOLUTION, cell, parent, geometry))
    return len(cells)


def start_workers(url: str, storage: Storage, count: int) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, **role_env(url), TERRACE_STORAGE_URL=storage.root_url)
    command = [sys.executable, "-m", "terrace", "worker", "--concurrency", "1"]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(count)]
    wait(url, "SELECT count(*) >= %s FROM app.workers WHERE stopped_at IS NULL", count)
    return workers


def wait(url: str, query: str, arg: object) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not conn.execute(query, (arg,)).fetchone()[0]:  # type: ignore[index]
            time.sleep(0.05)


def wait_job(url: str, job_id: str) -> None:
    done = (
        "SELECT status::text IN ('awaiting_approval', 'completed', 'failed') FROM app.jobs WHERE job_id = %s"
    )
    wait(url, done, job_id)
    with psycopg.connect(url) as conn:
        status = conn.execute("SELECT status::text FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
    if status is None or status[0] == "failed":
        raise SystemExit(f"job {job_id} failed")


def publish_raster(url: str, storage: Storage, machine: CoreMachine, file: Path) -> str:
    """The raster as a served release (process_raster, approved); its COG's path."""
    storage.put("bronze", f"bench/{file.name}", file)
    request = SubmitRequest(
        dataset_id="bench", resource_id="surface", file_name=f"bench/{file.name}", access_level="public"
    )
    with open_pool(url, max_size=2) as pool:
        receipt = submit_release(pool, machine, storage, JobDefaults(), request, ADMIN).receipt
        assert receipt is not None
        wait_job(url, receipt.job_id)
        with pool.connection() as conn, conn.transaction():
            review.approve(conn, receipt.release_id, "bench")
            cog = conn.execute(
                "SELECT path FROM app.cog_metadata WHERE release_id = %s", (receipt.release_id,)
            )
            return str(storage.local_path("silver", cog.fetchone()["path"]))  # type: ignore[index]


def terrace(url: str, machine: CoreMachine, run: int, chunk_size: int) -> tuple[float, str, str]:
    """Seconds from submit to the statistics table loaded, the job's stages, and the table."""
    body = {
        "raster": {"dataset_id": "bench", "resource_id": "surface"},
        "zones": {"h3_grid": "bench", "resolution": RESOLUTION},
        "stats": STATS,
        "output": {"dataset_id": "bench", "resource_id": f"zonal-{run}"},
    }
    with open_pool(url, max_size=2) as pool:
        started = time.perf_counter()
        receipt = submit_zonal(pool, machine, ZonalRequest.model_validate(body), ADMIN, chunk_size)
        wait_job(url, receipt.job_id)
        elapsed = time.perf_counter() - started
    return elapsed, stage_times(url, receipt.job_id), f"bench_zonal_{run}_ord1"


def zones(url: str) -> tuple[list[int], list[dict[str, Any]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT cell_id, ST_AsBinary(geom) FROM h3.cells WHERE grid = 'bench' ORDER BY cell_id",
            binary=True,
        ).fetchall()
    ids = [row[0] for row in rows]
    shapes = shapely.from_wkb([bytes(row[1]) for row in rows])
    features = [
        {"type": "Feature", "properties": {"n": n}, "geometry": shapely.geometry.mapping(s)}
        for n, s in enumerate(shapes)
    ]
    return ids, features


def peer(cog: str, features: list[dict[str, Any]], strategy: str) -> tuple[float, dict[str, np.ndarray]]:
    started = time.perf_counter()
    results = exact_extract(cog, features, STATS, strategy=strategy, include_cols=["n"], output="pandas")
    elapsed = time.perf_counter() - started
    results = results.sort_values("n")
    return elapsed, {stat: results[stat].to_numpy(np.float64) for stat in STATS}


def compare(url: str, table: str, expected: dict[str, np.ndarray]) -> float:
    """The largest relative difference between Terrace's table and exactextract's values."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        query = sql.SQL("SELECT {} FROM {} ORDER BY zone_id").format(
            sql.SQL(", ").join(map(sql.Identifier, STATS)), sql.Identifier("geo_draft", table)
        )
        rows = conn.execute(query).fetchall()
    worst = 0.0
    for stat in STATS:
        ours = np.array([np.nan if r[stat] is None else r[stat] for r in rows], np.float64)
        theirs = expected[stat]
        if len(ours) != len(theirs) or not np.array_equal(np.isnan(ours), np.isnan(theirs)):
            raise SystemExit(f"{stat}: Terrace and exactextract disagree on which zones have values")
        both = ~np.isnan(ours)
        scale = np.maximum(np.abs(theirs[both]), 1e-300)
        worst = max(worst, float(np.max(np.abs(ours[both] - theirs[both]) / scale, initial=0.0)))
    return worst


def rasterstats_rate(cog: str, features: list[dict[str, Any]]) -> float | None:
    """Zones per second of rasterstats on a sample, or None when it is not installed."""
    try:
        from rasterstats import zonal_stats
    except ImportError:
        return None
    sample = features[:: max(1, len(features) // SAMPLE)]
    started = time.perf_counter()
    zonal_stats(sample, cog, stats=STATS)
    return len(sample) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="Edge length factor for quick runs.")
    parser.add_argument("--chunk-size", type=int, default=JobDefaults().zonal_chunk_size)
    parser.add_argument(
        "--strategies",
        default="raster-sequential,feature-sequential",
        help="exactextract strategies to run, each after a Terrace run; the fastest is the peer.",
    )
    args = parser.parse_args()
    size = int(10_000 * args.scale)
    with bench_cluster() as (_, url, home):
        storage = Storage.local(home / "storage")
        storage.create_containers()
        machine = CoreMachine(default_registry(), storage)
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load {load:.1f}; GDAL {rasterio.__gdal_version__}")
        source = generate(home / "surface.tif", size)
        workers = start_workers(url, storage, 2)
        try:
            cog = publish_raster(url, storage, machine, source)
            count = write_cells(url, "bench", EXTENT * args.scale)
            print(f"{size}x{size} float32 COG; {count} H3 cells at resolution {RESOLUTION}; stats {STATS}")
            ids, features = zones(url)
            runs: list[tuple[str, float]] = []
            peer_values: dict[str, np.ndarray] = {}
            for run, strategy in enumerate(args.strategies.split(",")):
                seconds, stages, table = terrace(url, machine, run, args.chunk_size)
                runs.append(("terrace", seconds))
                print(f"  terrace zonal_statistics         {count / seconds:9.0f} zones/s  ({seconds:.1f} s)")
                print(f"    {stages}")
                seconds, peer_values = peer(cog, features, strategy)
                runs.append((f"exactextract {strategy}", seconds))
                print(f"  exactextract {strategy:<19} {count / seconds:9.0f} zones/s  ({seconds:.1f} s)")
                difference = compare(url, table, peer_values)
                print(f"    largest relative difference from exactextract: {difference:.2e}")
                if difference > 1e-9:
                    raise SystemExit("Terrace's statistics differ from exactextract's")
            rss = max(peak_rss_mb(w.pid) for w in workers)
            print(f"  peak worker RSS {rss:.0f} MB")
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait()
        rate = rasterstats_rate(cog, features)
        if rate is not None:
            print(f"  rasterstats zonal_stats (sample of {SAMPLE}, centre-sampled) {rate:9.0f} zones/s")
    ours = count / min(s for name, s in runs if name == "terrace")
    theirs = count / min(s for name, s in runs if name != "terrace")
    print(
        f"RESULT name=zonal_h3_zones_per_s value={ours:.0f} unit=zones/s peer=exactextract "
        f"peer_value={theirs:.0f} ratio={ours / theirs:.2f}"
    )


if __name__ == "__main__":
    main()
