"""Stage 3 of process_vector: add up what the prepare tasks found, refuse what cannot be loaded,
create the staging tables and write the repair report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from terrace.errors import InvalidInput
from terrace.ingest.release import JobWarning, Location
from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.contracts import Inspection, Prepared, Staged, StageTask, StagingTable, Summary
from terrace.ingest.vector.geometry import FAMILIES, union_box
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.sources import described
from terrace.ingest.vector.tables import SUFFIXES, create_table, drop_table, require_free, staging_name
from terrace.orchestration.definitions import TaskContext

REPORT_HEADER = b"source_fid,reason\n"
# the repair report's reasons for dropping a feature, as a refusal names them
DROPS = {
    "NULL_GEOMETRY_DROPPED": "null or empty geometries",
    "GEOMETRY_UNREADABLE_DROPPED": "geometries no reader understands",
    "GEOMETRY_UNREPAIRABLE_DROPPED": "geometries no repair makes valid",
}


@dataclass
class Totals:
    """What all parts held together."""

    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    non_null: Counter[str] = field(default_factory=Counter)
    families: Counter[int] = field(default_factory=Counter)
    bounds: dict[int, list[float]] = field(default_factory=dict)


def plan_staging(params: VectorParams, results: list[Prepared]) -> list[StageTask]:
    return [StageTask(parts=results)]


def create_staging(ctx: TaskContext[VectorParams, StageTask]) -> Staged:
    params, parts = ctx.params, ctx.task.parts
    inspected = Inspection.model_validate_json(
        ctx.storage.get("silver", f"{params.work_prefix}/inspect.json")
    )
    totals = add_up(parts)
    name = described(PurePosixPath(inspected.source.file).name, inspected.source.layer)
    families = _check(totals, params, name)
    kept = [c for c in inspected.columns if totals.non_null[c.name] > 0]
    dropped = [c.name for c in inspected.columns if totals.non_null[c.name] == 0]
    tables = _create_tables(ctx, kept, families, totals)
    chunks = [chunk for part in parts for chunk in part.chunks]
    summary = Summary(
        tables=tables,
        columns=kept,
        warnings=inspected.warnings + _warnings(totals.counts, dropped),
        repair_report=_merge_reports(ctx, [p.report for p in parts if p.report]),
        source=inspected.source,
        chunks=chunks,
    )
    ctx.storage.put("silver", f"{params.work_prefix}/summary.json", summary.model_dump_json().encode())
    return Staged(
        chunks=chunks,
        columns=[c.name for c in kept],
        geometry_column=params.geometry_column,
        tables={t.family: t.staging for t in tables},
    )


def add_up(parts: list[Prepared]) -> Totals:
    """The parts' rows, repairs, non-null values, features and bounds added up."""
    totals = Totals()
    for part in parts:
        totals.rows += part.rows
        totals.counts.update(part.counts)
        totals.non_null.update(part.non_null)
        totals.families.update(part.families)
        for family, box in part.bounds.items():
            totals.bounds[family] = union_box(totals.bounds.get(family), box)
    return totals


def _check(totals: Totals, params: VectorParams, name: str) -> list[int]:
    if totals.rows == 0:
        raise InvalidInput(f"{name} has no features.", "Upload a file that contains data.")
    families = sorted(totals.families)
    if not families:
        raise InvalidInput(
            f"No feature of {name} has a geometry to load: "
            + ", ".join(f"{n} {why}" for code, why in DROPS.items() if (n := totals.counts[code]))
            + ".",
            "Check the geometry column (for CSV: the coordinate columns) and upload again.",
        )
    if len(families) > 1 and not params.geometry_split:
        kinds = ", ".join(f"{totals.families[f]} {FAMILIES[f]}s" for f in families)
        raise InvalidInput(
            f"{name} mixes geometry types ({kinds}) and geometry_split is off.",
            "Turn geometry_split on (one table per type), or split the file yourself.",
        )
    return families


def _warnings(counts: Counter[str], dropped: list[str]) -> list[JobWarning]:
    found = [
        JobWarning(code=code, count=n, message=f"{code.replace('_', ' ').lower()}: {n} features")
        for code, n in sorted(counts.items())
        if n
    ]
    if dropped:
        found.append(
            JobWarning(code="ALL_NULL_COLUMN_DROPPED", count=len(dropped), message=", ".join(dropped))
        )
    return found


def _create_tables(
    ctx: TaskContext[VectorParams, StageTask], columns: list[Column], families: list[int], totals: Totals
) -> list[StagingTable]:
    params = ctx.params
    tables = []
    with ctx.connect() as conn:
        for family in families:
            suffix = SUFFIXES[family] if len(families) > 1 else ""
            final, staging = params.table_name + suffix, staging_name(ctx.job_id, family)
            require_free(conn, params.target_schema, final)
            drop_table(conn, params.target_schema, staging)  # left by an earlier attempt
            create_table(
                conn, params.target_schema, staging, columns, family, params.geometry_column, params.keep_z
            )
            tables.append(
                StagingTable(
                    family=family,
                    suffix=suffix,
                    table_name=final,
                    staging=staging,
                    expected=totals.families[family],
                    bbox=totals.bounds[family],
                    geometry_type=("MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")[family],
                )
            )
    return tables


def _merge_reports(ctx: TaskContext[VectorParams, StageTask], paths: list[str]) -> Location | None:
    """One CSV of every part's repaired and dropped features, in source order."""
    if not paths:
        return None
    path = f"{ctx.params.work_prefix}/repair-report.csv"
    body = b"".join(ctx.storage.get("silver", p) for p in paths)
    ctx.storage.put("silver", path, REPORT_HEADER + body)
    return Location(container="silver", path=path)
