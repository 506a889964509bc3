"""H3 grid bootstrap end to end: the h3_grid job against h3-py in one process.

Resolution 8 over a 1°×1° box (about 22,000 cells), in rounds that alternate the two methods
(the machine may be shared, so both see the same load):

- terrace: the grid created as POST /api/analytics/h3/grids creates it (grid row and job in one
  transaction) → plan, cells and finish tasks on 2 worker processes x concurrency 2 → every cell
  in h3.cells with its id, parent and MultiPolygon geometry, GiST-indexed, and the grid ready;
- h3-py: polygon_to_cells, then cell_to_boundary for every cell (the geometries), in memory;
- for context, Terrace's own cell computation (fill + WKB polygons) without the database.

    .venv/bin/python bench/h3_grid.py [--resolution 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import h3
import psycopg
import shapely
from psycopg.rows import dict_row
from terrace_jobs import _wait, bench_cluster, print_result, role_env, stage_times

from terrace.analytics import grids, h3cells
from terrace.analytics.grids import GridRequest
from terrace.auth import Principal, Role
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage

BOX = (110.0, -7.5, 111.0, -6.5)
ADMIN = Principal(key_id="bench", name="bench", role=Role.admin)


def terrace(url: str, machine: CoreMachine, name: str, resolution: int) -> tuple[int, float, str]:
    """(cells, seconds, stage times) from the grid's creation to its job's completion."""
    request = GridRequest(name=name, resolutions=[resolution], area={"bbox": list(BOX)})
    started = time.perf_counter()
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.transaction():
        job_id = grids.create(conn, machine, request, ADMIN, max_cells=10**9)["job_id"]
    _wait(url, "SELECT status::text IN ('completed', 'failed') FROM app.jobs WHERE job_id = %s", job_id)
    elapsed = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        status, cells = conn.execute(
            "SELECT status, (cell_counts ->> %s)::int FROM h3.grids WHERE name = %s", (str(resolution), name)
        ).fetchone()  # type: ignore[misc]
    if status != "ready":
        raise SystemExit(f"grid {name} is {status}")
    return cells, elapsed, stage_times(url, job_id)


def h3py(resolution: int) -> tuple[int, float]:
    minx, miny, maxx, maxy = BOX
    started = time.perf_counter()
    cells = h3.polygon_to_cells(
        h3.LatLngPoly([(miny, minx), (miny, maxx), (maxy, maxx), (maxy, minx)]), resolution
    )
    boundaries = [h3.cell_to_boundary(cell) for cell in cells]
    elapsed = time.perf_counter() - started
    assert len(boundaries) == len(cells)
    return len(cells), elapsed


def in_process(resolution: int) -> tuple[int, float]:
    started = time.perf_counter()
    cells = h3cells.fill(shapely.box(*BOX), resolution)
    polygons = h3cells.polygons(cells)
    elapsed = time.perf_counter() - started
    assert len(polygons) == len(cells)
    return len(cells), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resolution", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ours, theirs, alone = [], [], []
    with bench_cluster() as (_, url, home):
        storage = Storage.local(home / "storage")
        storage.create_containers()
        env = dict(os.environ, **role_env(url), TERRACE_STORAGE_URL=storage.root_url)
        command = [sys.executable, "-m", "terrace", "worker", "--concurrency", "2"]
        workers = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
        try:
            _wait(url, "SELECT count(*) >= %s FROM app.workers WHERE stopped_at IS NULL", 2)
            machine = CoreMachine(default_registry(), storage)
            print(f"machine: {os.cpu_count()} cores (shared); resolution {args.resolution} over {BOX}")
            for round_ in range(args.rounds):
                count, seconds = h3py(args.resolution)
                theirs.append(count / seconds)
                cells, seconds, stages = terrace(url, machine, f"bench_{round_}", args.resolution)
                assert cells == count, (cells, count)
                ours.append(cells / seconds)
                count, seconds = in_process(args.resolution)
                alone.append(count / seconds)
                print(
                    f"  round {round_ + 1}: {cells:,} cells  terrace {ours[-1]:,.0f} cells/s  "
                    f"h3-py {theirs[-1]:,.0f} cells/s  terrace cells in memory {alone[-1]:,.0f} cells/s\n"
                    f"    {stages}",
                    flush=True,
                )
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait()
    ratio = {"r8": (statistics.median(ours), statistics.median(theirs))}
    print(
        f"medians: terrace {ratio['r8'][0]:,.0f} cells/s (in the database), h3-py {ratio['r8'][1]:,.0f} "
        f"cells/s (in memory), terrace cells in memory {statistics.median(alone):,.0f} cells/s"
    )
    print_result("h3_grid_cells_per_s", "cells/s", "h3-py polygon_to_cells+cell_to_boundary", ratio)


if __name__ == "__main__":
    main()
