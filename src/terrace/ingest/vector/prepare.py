"""Stage 1 of process_vector: read, validate and clean the file into Parquet chunks in silver,
then create the (empty) staging tables the load tasks fill."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyproj
import shapely

from terrace.errors import InvalidInput
from terrace.ingest.vector.columns import Column, plan_columns
from terrace.ingest.vector.geometry import FAMILIES, clean, ewkb_hex
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.sources import GEOMETRY, ReadOptions, open_source
from terrace.ingest.vector.tables import SUFFIXES, create_table, drop_table, require_free, staging_name
from terrace.orchestration.definitions import Result, TaskContext

EARLIEST, LATEST = pa.scalar(-62135596800, pa.int64()), pa.scalar(253402300799, pa.int64())  # years 1..9999


def prepare(ctx: TaskContext) -> Result:
    params = VectorParams.model_validate(ctx.job_params)
    if params.access_level is None:
        raise InvalidInput("The job has no access_level.", "Submit through the Platform API, which sets it.")
    options = ReadOptions(params.layer, params.lat_column, params.lon_column, params.wkt_column)
    with ctx.storage.local_copy(params.container, params.path) as path, open_source(path, options) as source:
        crs, warnings = _crs(source.crs, params.crs, path.name, source.format)
        columns, column_warnings = plan_columns(source.schema)
        warnings += column_warnings
        chunks = ChunkWriter(ctx, params, columns)
        wgs84 = pyproj.CRS.from_epsg(4326)
        same = crs.equals(wgs84, ignore_axis_order=True)
        transformer = None if same else pyproj.Transformer.from_crs(crs, wgs84, always_xy=True)
        stats = _read(ctx, source.batches, columns, chunks, transformer, params.keep_z)
        chunks.close()
        source_info = {
            "file": params.path,
            "format": source.format,
            "layer": source.layer,
            "crs": crs.to_string(),
            "sha256": ctx.storage.sha256(params.container, params.path),
        }
    families = _check(stats, params, path.name)
    kept_columns = [c for c in columns if stats["non_null"][c.name] > 0]
    dropped = [c.name for c in columns if stats["non_null"][c.name] == 0]
    warnings += _warnings(stats["counts"], dropped)
    tables = _create_tables(ctx, params, kept_columns, families, stats, source_info)
    report = _write_report(ctx, params, stats["report"])
    summary = {
        "tables": tables,
        "columns": [c.__dict__ for c in kept_columns],
        "warnings": warnings,
        "repair_report": report,
        "source": source_info,
        "chunks": chunks.written,
    }
    ctx.storage.put("silver", f"{params.work_prefix}/prepare.json", json.dumps(summary).encode())
    return {
        "chunks": chunks.written,
        "columns": [c.name for c in kept_columns],
        "geometry_column": params.geometry_column,
        "tables": {t["family"]: t["staging"] for t in tables},
    }


def _crs(
    found: str | None, given: str | None, name: str, fmt: str
) -> tuple[pyproj.CRS, list[dict[str, Any]]]:
    """The source CRS; coordinates in a CSV without one are taken as WGS 84 longitude/latitude."""
    text = given or found
    if not text and fmt == "CSV":
        return pyproj.CRS.from_epsg(4326), [
            {"code": "CRS_ASSUMED", "count": 1, "message": "CSV coordinates taken as EPSG:4326 (WGS 84)"}
        ]
    if not text:
        raise InvalidInput(
            f"{name} has no coordinate reference system (for a shapefile: no .prj).",
            "Add the .prj file, or give the CRS in the `crs` option, e.g. EPSG:4326.",
        )
    try:
        return pyproj.CRS.from_user_input(text), []
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInput(
            f"{name}: unknown coordinate reference system {text!r}.",
            "Give a valid CRS in the `crs` option, e.g. EPSG:32748.",
        ) from exc


def _read(
    ctx: TaskContext,
    batches: Any,
    columns: list[Column],
    chunks: ChunkWriter,
    transformer: pyproj.Transformer | None,
    keep_z: bool,
) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "rows": 0,
        "counts": Counter(),
        "report": [],
        "non_null": Counter(),
        "families": Counter(),
        "bounds": {},
    }
    for batch in batches:
        cleaned = clean(
            batch.column(GEOMETRY).to_numpy(zero_copy_only=False), stats["rows"], transformer, keep_z
        )
        stats["rows"] += batch.num_rows
        stats["counts"].update(cleaned.counts)
        stats["report"] += cleaned.report
        attributes, coerced = _attributes(batch.filter(pa.array(cleaned.kept)), columns)
        stats["counts"]["DATETIME_COERCED"] += coerced
        for column in columns:
            stats["non_null"][column.name] += len(attributes) - attributes.column(column.name).null_count
        for family in np.unique(cleaned.families):
            mask = cleaned.families == family
            stats["families"][int(family)] += int(mask.sum())
            _grow(stats["bounds"], int(family), shapely.total_bounds(cleaned.geometries[mask]))
            ewkb = ewkb_hex(cleaned.geometries[mask])
            chunks.add(int(family), attributes.filter(pa.array(mask)).append_column("geom", ewkb))
        ctx.progress(0, f"{stats['rows']} features read")
    return stats


def _attributes(batch: pa.RecordBatch, columns: list[Column]) -> tuple[pa.Table, int]:
    """The batch's attribute columns under their new names; out-of-range datetimes become null.

    Selected from the batch (never rebuilt column by column) so a layer without attributes
    keeps its row count.
    """
    indices = [batch.schema.get_field_index(c.source) for c in columns]
    table = pa.Table.from_batches([batch]).select(indices).rename_columns([c.name for c in columns])
    coerced = 0
    for index, array in enumerate(table.columns):
        if pa.types.is_timestamp(array.type):
            seconds = pc.cast(pc.cast(array, pa.timestamp("s", array.type.tz), safe=False), pa.int64())
            bad = pc.or_(pc.less(seconds, EARLIEST), pc.greater(seconds, LATEST))
            coerced += pc.sum(bad).as_py() or 0
            table = table.set_column(
                index, table.field(index), pc.if_else(bad, pa.scalar(None, array.type), array)
            )
    return table, coerced


def _grow(bounds: dict[int, list[float]], family: int, box: np.ndarray) -> None:
    old = bounds.get(family)
    bounds[family] = (
        list(box)
        if old is None
        else [min(old[0], box[0]), min(old[1], box[1]), max(old[2], box[2]), max(old[3], box[3])]
    )


def _check(stats: dict[str, Any], params: VectorParams, name: str) -> list[int]:
    if stats["rows"] == 0:
        raise InvalidInput(f"{name} has no features.", "Upload a file that contains data.")
    families = sorted(stats["families"])
    if not families:
        raise InvalidInput(
            f"All {stats['rows']} features of {name} have null or empty geometries.",
            "Check the geometry column (for CSV: the coordinate columns) and upload again.",
        )
    if len(families) > 1 and not params.geometry_split:
        kinds = ", ".join(f"{stats['families'][f]} {FAMILIES[f]}s" for f in families)
        raise InvalidInput(
            f"{name} mixes geometry types ({kinds}) and geometry_split is off.",
            "Turn geometry_split on (one table per type), or split the file yourself.",
        )
    return families


def _warnings(counts: Counter[str], dropped: list[str]) -> list[dict[str, Any]]:
    found = [
        {"code": code, "count": n, "message": f"{code.replace('_', ' ').lower()}: {n} features"}
        for code, n in sorted(counts.items())
        if n
    ]
    if dropped:
        found.append(
            {"code": "ALL_NULL_COLUMN_DROPPED", "count": len(dropped), "message": ", ".join(dropped)}
        )
    return found


def _create_tables(
    ctx: TaskContext,
    params: VectorParams,
    columns: list[Column],
    families: list[int],
    stats: dict[str, Any],
    source: dict[str, Any],
) -> list[dict[str, Any]]:
    constants = {
        "source_file": source["file"],
        "source_format": source["format"],
        "source_crs": source["crs"],
        "etl_job_id": ctx.job_id,
    }
    tables = []
    with psycopg.connect(ctx.database_url, row_factory=psycopg.rows.dict_row) as conn:
        for family in families:
            suffix = SUFFIXES[family] if len(families) > 1 else ""
            final, staging = params.table_name + suffix, staging_name(ctx.job_id, family)
            require_free(conn, params.target_schema, final)
            drop_table(conn, params.target_schema, staging)  # left by an earlier attempt
            create_table(
                conn,
                params.target_schema,
                staging,
                columns,
                family,
                params.geometry_column,
                params.keep_z,
                constants,
            )
            tables.append(
                {
                    "family": family,
                    "suffix": suffix,
                    "table_name": final,
                    "staging": staging,
                    "expected": stats["families"][family],
                    "bbox": stats["bounds"][family],
                    "geometry_type": ("MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")[family],
                }
            )
    return tables


def _write_report(
    ctx: TaskContext, params: VectorParams, rows: list[tuple[int, str]]
) -> dict[str, str] | None:
    if not rows:
        return None
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["source_row", "reason"])
    writer.writerows(rows)
    path = f"{params.work_prefix}/repair-report.csv"
    ctx.storage.put("silver", path, text.getvalue().encode())
    return {"container": "silver", "path": path}


class ChunkWriter:
    """Buffers cleaned rows per geometry family and writes Parquet chunks of `chunk_size` rows."""

    def __init__(self, ctx: TaskContext, params: VectorParams, columns: list[Column]) -> None:
        self.ctx, self.params = ctx, params
        self.buffers: dict[int, list[pa.Table]] = {}
        self.written: list[dict[str, Any]] = []

    def add(self, family: int, rows: pa.Table) -> None:
        parts = self.buffers.setdefault(family, [])
        parts.append(rows)
        size = self.params.chunk_size
        if sum(len(t) for t in parts) >= size:
            pending = pa.concat_tables(parts)
            while len(pending) >= size:
                self._write(family, pending.slice(0, size))
                pending = pending.slice(size)
            self.buffers[family] = [pending]

    def close(self) -> None:
        for family, parts in self.buffers.items():
            table = pa.concat_tables(parts)
            if len(table):
                self._write(family, table)
        self.buffers.clear()

    def _write(self, family: int, table: pa.Table) -> None:
        path = f"{self.params.work_prefix}/{FAMILIES[family]}-{len(self.written):05d}.parquet"
        with tempfile.NamedTemporaryFile(suffix=".parquet") as file:
            pq.write_table(table, file.name, compression="snappy")
            self.ctx.storage.put("silver", path, Path(file.name))
        self.written.append({"path": path, "family": family, "rows": len(table)})
