"""The `h3_grid` job: plan (one task: the coarse parent cells around the area, in chunks) →
cells (a task per chunk writes the chunk's cells at every resolution) → finish (one task: the
counts, and the grid ready).

A chunk's cells at a resolution are those whose centre lies in the area (h3's polygon_to_cells)
and whose parent at the coarse resolution is one of the chunk's: each cell belongs to exactly one
chunk. A task fills only the area near its parents (their neighbourhood, which holds all their
descendants), so no task enumerates what lies far from the area. A task deletes the rows an
earlier attempt of it wrote and COPYs its own in one transaction: a retry never duplicates rows.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from psycopg.types.json import Jsonb
from pydantic import Field

from terrace.analytics import areas, h3cells
from terrace.analytics.areas import Area
from terrace.analytics.grids import H3_GRID, NAME, no_grid
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage, TaskContext
from terrace.orchestration.registry import JobRegistry
from terrace.storage import Storage

SCHEMA = "h3"
# The coarse resolution is at most this many levels above the finest one (7**5 = 16,807 cells).
LEVELS_PER_PARENT = 5
CELLS_PER_TASK = 200_000
MAX_TASKS = 256


def _run_id() -> str:
    return uuid.uuid4().hex


class GridParams(Contract):
    grid: str = Field(pattern=NAME)
    resolutions: list[int] = Field(min_length=1, description="Ascending H3 resolutions.")
    area: Area
    release_id: str | None = Field(default=None, description="The release the area comes from, if any.")
    run: str = Field(default_factory=_run_id)  # a grid deleted and made again is a new job


class Chunk(Contract):
    parents: list[int]  # coarse parent cells, a run of the sorted list
    area: str  # hex WKB: the area near these parents


class Planned(Contract):
    parent_resolution: int
    chunks: list[Chunk]


class CellsTask(Chunk):
    parent_resolution: int


class Written(Contract):
    cells: dict[str, int]


class GridBuilt(Contract):
    grid: str
    cells: dict[str, int]
    total: int


def coarse_resolution(resolutions: list[int]) -> int:
    """The resolution of the parents tasks fan out by: no finer than the grid's coarsest (so
    every cell has one), at most LEVELS_PER_PARENT above its finest."""
    return max(0, min(resolutions[0], resolutions[-1] - LEVELS_PER_PARENT))


def _plan(ctx: TaskContext[GridParams, NoInput]) -> Planned:
    params = ctx.params
    with ctx.connect() as conn:
        _lock_grid(conn, params.grid, ctx.job_id)
        area = areas.geometry(conn, params.area)
    parent_res = coarse_resolution(params.resolutions)
    parents = h3cells.cover(area, parent_res)
    per_parent = sum(7 ** (r - parent_res) for r in params.resolutions)
    size = max(1, CELLS_PER_TASK // per_parent, math.ceil(len(parents) / MAX_TASKS))
    chunks = []
    for start in range(0, len(parents), size):
        run = parents[start : start + size]
        near = shapely.union_all(h3cells.shapes(h3cells.neighbourhood(run)), grid_size=1e-9)
        clipped = shapely.intersection(area, near)
        if not clipped.is_empty:
            chunks.append(Chunk(parents=run.tolist(), area=shapely.to_wkb(clipped, hex=True)))
    return Planned(parent_resolution=parent_res, chunks=chunks)


def _plan_cells(params: GridParams, results: list[Planned]) -> list[CellsTask]:
    (planned,) = results
    return [
        CellsTask(parents=c.parents, area=c.area, parent_resolution=planned.parent_resolution)
        for c in planned.chunks
    ]


def _cells(ctx: TaskContext[GridParams, CellsTask]) -> Written:
    params, task = ctx.params, ctx.task
    area = shapely.from_wkb(bytes.fromhex(task.area))
    chunk = np.array(task.parents, dtype=np.uint64)
    batches, counts = [], {}
    for i, res in enumerate(params.resolutions):
        cells = h3cells.fill(area, res)
        cells = cells[np.isin(h3cells.parents(cells, task.parent_resolution), chunk)]
        coarser = params.resolutions[i - 1] if i else None
        batches.append(_rows(params.grid, res, cells, coarser))
        counts[str(res)] = len(cells)
        ctx.progress(90 * (i + 1) / len(params.resolutions), f"resolution {res}: {len(cells)} cells")
    _write(ctx, task, pa.concat_tables(batches))
    return Written(cells=counts)


def _rows(grid: str, res: int, cells: np.ndarray, coarser: int | None) -> pa.Table:
    count = len(cells)
    parent_ids = (
        pa.nulls(count, pa.int64())
        if coarser is None
        else pa.array(h3cells.parents(cells, coarser).view(np.int64))
    )
    return pa.table(
        {
            "grid": pa.repeat(pa.scalar(grid), count),
            "resolution": pa.array(np.full(count, res, dtype=np.int16)),
            "cell_id": pa.array(cells.view(np.int64)),
            "parent_id": parent_ids,
            "geom": h3cells.polygons(cells),
        }
    )


def _write(ctx: TaskContext[GridParams, CellsTask], task: CellsTask, rows: pa.Table) -> None:
    """Replace what an earlier attempt of this task wrote with `rows`, in one transaction."""
    delete = queries("grids")["delete_chunk"]
    with ctx.adbc() as conn:
        with conn.cursor() as cursor:
            for res in ctx.params.resolutions:
                low, high = h3cells.descendant_range(
                    task.parents[0], task.parents[-1], task.parent_resolution, res
                )
                cursor.execute(delete, (ctx.params.grid, res, low, high))
            cursor.adbc_ingest("cells", rows, mode="append", db_schema_name=SCHEMA)
        conn.commit()


def _finish(ctx: TaskContext[GridParams, NoInput]) -> GridBuilt:
    params = ctx.params
    q = queries("grids")
    with ctx.connect() as conn:
        _lock_grid(conn, params.grid, ctx.job_id)
        found = {
            row["resolution"]: row["cells"] for row in conn.execute(q["count_cells"], {"name": params.grid})
        }
        counts = {str(r): found.get(r, 0) for r in params.resolutions}
        conn.execute(q["grid_ready"], {"name": params.grid, "job_id": ctx.job_id, "counts": Jsonb(counts)})
    return GridBuilt(grid=params.grid, cells=counts, total=sum(counts.values()))


def _lock_grid(conn: Connection, name: str, job_id: str) -> None:
    if conn.execute(queries("grids")["lock_grid"], {"name": name, "job_id": job_id}).fetchone() is None:
        raise no_grid(name)


def _failed(conn: Connection, storage: Storage, params: GridParams, job_id: str) -> None:
    conn.execute(queries("grids")["grid_failed"], {"name": params.grid, "job_id": job_id})


def _single(params: Any, results: list[GridBuilt]) -> GridBuilt:
    (built,) = results
    return built


H3_GRID_JOB = JobType(
    name=H3_GRID,
    parameters=GridParams,
    stages=(
        Stage("plan", _plan, lambda params, _: [NoInput()], NoInput, Planned),
        Stage("cells", _cells, _plan_cells, CellsTask, Written),
        Stage("finish", _finish, lambda params, _: [NoInput()], NoInput, GridBuilt),
    ),
    finalize=_single,
    on_failure=_failed,
    max_attempts=3,
    timeout_seconds=6 * 3600,
    backoff_base_seconds=2.0,
    backoff_max_seconds=60.0,
)


def register(registry: JobRegistry) -> None:
    """Add the analytics jobs to `registry`."""
    registry.register(H3_GRID_JOB)
