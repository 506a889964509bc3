"""Stage 2 of process_vector, one task per part of the file: read, clean and write the rows as
Arrow IPC chunks in silver, typed exactly as the table columns; report what was repaired."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyproj
import shapely

from terrace.db.queries import queries
from terrace.ingest.vector.columns import Column, as_column_type
from terrace.ingest.vector.contracts import Chunk, Inspected, Prepared, PrepareTask
from terrace.ingest.vector.geometry import FAMILIES, clean, union_box
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.sources import GEOMETRY, Batch, open_source
from terrace.ingest.vector.wkb import multi_wkb, plain
from terrace.orchestration.definitions import TaskContext
from terrace.storage import Storage

EARLIEST, LATEST = pa.scalar(-62135596800, pa.int64()), pa.scalar(253402300799, pa.int64())  # years 1..9999
WGS84 = pyproj.CRS.from_epsg(4326)


def plan_parts(params: VectorParams, results: list[Inspected]) -> list[PrepareTask]:
    (inspected,) = results
    return [
        PrepareTask(part=part, index=index, columns=inspected.columns, crs=inspected.source.crs)
        for index, part in enumerate(inspected.parts)
    ]


def prepare(ctx: TaskContext[VectorParams, PrepareTask]) -> Prepared:
    params, task = ctx.params, ctx.task
    crs = pyproj.CRS.from_user_input(task.crs)
    transformer = (
        None
        if crs.equals(WGS84, ignore_axis_order=True)
        else pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    )
    chunks = ChunkWriter(ctx.storage, params, task.index)
    with (
        ctx.storage.local_copy(params.container, params.path) as path,
        open_source(path, params.read_options, task.part) as source,
    ):
        prepared, report = _read(ctx, source.batches, task.columns, chunks, transformer, params.keep_z)
    chunks.close()
    report_path = _write_report(
        ctx.storage, f"{params.work_prefix}/parts/report-{task.index:05d}.csv", report
    )
    return prepared.model_copy(update={"chunks": chunks.written, "report": report_path})


def _read(
    ctx: TaskContext[VectorParams, PrepareTask],
    batches: Iterator[Batch],
    columns: list[Column],
    chunks: ChunkWriter,
    transformer: pyproj.Transformer | None,
    keep_z: bool,
) -> tuple[Prepared, list[tuple[int, str]]]:
    """What the part held (its chunks not yet all written), and its repaired and dropped rows."""
    rows, counts, non_null, families = 0, Counter[str](), Counter[str](), Counter[int]()
    bounds: dict[int, list[float]] = {}
    report: list[tuple[int, str]] = []
    for batch in batches:
        read = plain(batch.records.column(GEOMETRY))
        cleaned = clean(read.to_numpy(zero_copy_only=False), transformer, keep_z, partial(_linearize, ctx))
        # the WKB as read where cleaning left the geometry alone, null where it changed it
        untouched = pc.if_else(
            pa.array(cleaned.kept_touched), pa.scalar(None, pa.binary()), read.take(cleaned.kept_rows)
        )
        rows += batch.records.num_rows
        counts.update(cleaned.counts)
        report += [(int(batch.fids[row]), reason) for row, reason in cleaned.report]
        attributes, coerced = _attributes(batch, cleaned.kept_rows, columns)
        counts["DATETIME_COERCED"] += coerced
        for column in columns:
            non_null[column.name] += len(attributes) - attributes.column(column.name).null_count
        for family in (int(f) for f in np.unique(cleaned.families)):
            mask = cleaned.families == family
            geoms = cleaned.geometries[mask]
            families[family] += int(mask.sum())
            box = [float(v) for v in shapely.total_bounds(geoms)]
            bounds[family] = union_box(bounds.get(family), box)
            rows_of_family = _rows(attributes, mask)
            geom = multi_wkb(geoms, family, untouched.filter(pa.array(mask)))
            chunks.add(family, rows_of_family.append_column("geom", geom))
        ctx.progress(0, f"{rows} features read")
    tally = Prepared(
        rows=rows,
        counts=dict(counts),
        non_null=dict(non_null),
        families=dict(families),
        bounds=bounds,
        chunks=[],
        report=None,
    )
    return tally, report


def _linearize(ctx: TaskContext[VectorParams, PrepareTask], wkb: list[bytes]) -> list[bytes | None]:
    """What GEOS cannot read, read by PostGIS: curves linearized (ST_CurveToLine, 32 segments a
    quarter circle), TINs and polyhedral surfaces as their faces; None for what PostGIS cannot
    read either (one at a time, once the whole batch failed)."""
    query = queries("vector")["linearize"]
    with ctx.connect(autocommit=True) as conn:
        try:
            return [row["wkb"] for row in conn.execute(query, {"wkb": wkb})]
        except (psycopg.errors.DataError, psycopg.errors.InternalError_):
            pass
        out: list[bytes | None] = []
        for one in wkb:
            try:
                out.append(conn.execute(query, {"wkb": [one]}).fetchone()["wkb"])  # type: ignore[index]
            except (psycopg.errors.DataError, psycopg.errors.InternalError_):
                out.append(None)
        return out


def _attributes(batch: Batch, rows: np.ndarray, columns: list[Column]) -> tuple[pa.Table, int]:
    """The attribute columns of `rows` (in order; a row may come twice) under their new names,
    typed as the table's columns; out-of-range datetimes become null.

    Selected from the batch (never rebuilt column by column) so a layer without attributes
    keeps its row count.
    """
    indices = [batch.records.schema.get_field_index(c.source) for c in columns]
    selected = (
        pa.Table.from_batches([batch.records]).select(indices).rename_columns([c.name for c in columns])
    )
    table = selected
    if not np.array_equal(
        rows, np.arange(len(selected))
    ):  # via a column: keeps the row count; no sanitized name starts with _
        numbered = selected.append_column("_row", pa.array(np.arange(len(selected))))
        table = numbered.take(rows).drop_columns(["_row"])
    coerced = 0
    for index, (array, column) in enumerate(zip(table.columns, columns, strict=True)):
        if pa.types.is_timestamp(array.type):
            seconds = pc.cast(pc.cast(array, pa.timestamp("s", array.type.tz), safe=False), pa.int64())
            bad = pc.or_(pc.less(seconds, EARLIEST), pc.greater(seconds, LATEST))
            coerced += pc.sum(bad).as_py() or 0
            array = pc.if_else(bad, pa.scalar(None, array.type), array)
        typed = as_column_type(array, column.pg_type)
        table = table.set_column(index, pa.field(column.name, typed.type), typed)
    return table, coerced


def _rows(table: pa.Table, mask: np.ndarray) -> pa.Table:
    return table if mask.all() else table.filter(pa.array(mask))


def _write_report(storage: Storage, path: str, rows: list[tuple[int, str]]) -> str | None:
    """This part's repaired and dropped features as CSV rows (no header): source FID, reason."""
    if not rows:
        return None
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    storage.put("silver", path, text.getvalue().encode())
    return path


@dataclass
class OpenChunk:
    sink: pa.BufferOutputStream
    writer: ipc.RecordBatchFileWriter
    path: str
    rows: int = 0


class ChunkWriter:
    """Streams cleaned rows per geometry family into Arrow IPC files of at most `chunk_size` rows,
    held in memory until uploaded to silver (uncompressed: a chunk lives only until finalize, and
    loads read it without decoding)."""

    def __init__(self, storage: Storage, params: VectorParams, part: int) -> None:
        self.storage, self.params, self.part = storage, params, part
        self.open: dict[int, OpenChunk] = {}
        self.written: list[Chunk] = []

    def add(self, family: int, rows: pa.Table) -> None:
        while len(rows):
            chunk = self.open.get(family) or self._start(family, rows.schema)
            taken = rows.slice(0, self.params.chunk_size - chunk.rows)
            chunk.writer.write_table(taken)
            chunk.rows += len(taken)
            rows = rows.slice(len(taken))
            if chunk.rows == self.params.chunk_size:
                self._finish(family)

    def close(self) -> None:
        for family in list(self.open):
            self._finish(family)

    def _start(self, family: int, schema: pa.Schema) -> OpenChunk:
        sink = pa.BufferOutputStream()
        writer = ipc.new_file(sink, schema)
        number = sum(1 for c in self.written if c.family == family)
        path = f"{self.params.work_prefix}/chunks/{FAMILIES[family]}-{self.part:05d}-{number:03d}.arrow"
        self.open[family] = OpenChunk(sink, writer, path)
        return self.open[family]

    def _finish(self, family: int) -> None:
        chunk = self.open.pop(family)
        chunk.writer.close()
        self.storage.put("silver", chunk.path, chunk.sink.getvalue().to_pybytes())
        self.written.append(Chunk(path=chunk.path, family=family, rows=chunk.rows))
