"""Stage 3 of process_vector: add up what the prepare tasks found, refuse what cannot be loaded,
create the staging tables and write the repair report."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import psycopg

from terrace.errors import InvalidInput
from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.geometry import FAMILIES, union_box
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.tables import SUFFIXES, create_table, drop_table, require_free, staging_name
from terrace.orchestration.definitions import Result, TaskContext

REPORT_HEADER = b"source_fid,reason\n"


def plan_staging(params: object, results: list[Result]) -> list[dict[str, Any]]:
    return [{"parts": results}]


def create_staging(ctx: TaskContext) -> Result:
    params = VectorParams.model_validate(ctx.job_params)
    inspected = json.loads(ctx.storage.get("silver", f"{params.work_prefix}/inspect.json"))
    parts: list[Result] = ctx.params["parts"]
    totals = _add_up(parts)
    name = inspected["source"]["file"].rsplit("/", 1)[-1]
    families = _check(totals, params, name)
    columns = [Column(**c) for c in inspected["columns"]]
    kept = [c for c in columns if totals["non_null"][c.name] > 0]
    dropped = [c.name for c in columns if totals["non_null"][c.name] == 0]
    warnings = inspected["warnings"] + _warnings(totals["counts"], dropped)
    tables = _create_tables(ctx, params, kept, families, totals)
    chunks = [chunk for part in parts for chunk in part["chunks"]]
    part_reports = [p["report"] for p in parts if p["report"]]
    summary = {
        "tables": tables,
        "columns": [c.__dict__ for c in kept],
        "warnings": warnings,
        "repair_report": _merge_reports(ctx, params, part_reports),
        "source": inspected["source"],
        "chunks": chunks,
    }
    ctx.storage.put("silver", f"{params.work_prefix}/summary.json", json.dumps(summary).encode())
    return {
        "chunks": chunks,
        "columns": [c.name for c in kept],
        "geometry_column": params.geometry_column,
        "tables": {str(t["family"]): t["staging"] for t in tables},
    }


def _add_up(parts: list[Result]) -> dict[str, Any]:
    totals: dict[str, Any] = {"rows": 0, "counts": Counter(), "non_null": Counter(), "families": Counter()}
    bounds: dict[int, list[float]] = {}
    for part in parts:
        totals["rows"] += part["rows"]
        for key in ("counts", "non_null"):
            totals[key].update(part[key])
        for family, count in part["families"].items():
            totals["families"][int(family)] += count
        for family, box in part["bounds"].items():
            bounds[int(family)] = union_box(bounds.get(int(family)), box)
    totals["bounds"] = bounds
    return totals


def _check(totals: dict[str, Any], params: VectorParams, name: str) -> list[int]:
    if totals["rows"] == 0:
        raise InvalidInput(f"{name} has no features.", "Upload a file that contains data.")
    families = sorted(totals["families"])
    if not families:
        raise InvalidInput(
            f"All {totals['rows']} features of {name} have null or empty geometries.",
            "Check the geometry column (for CSV: the coordinate columns) and upload again.",
        )
    if len(families) > 1 and not params.geometry_split:
        kinds = ", ".join(f"{totals['families'][f]} {FAMILIES[f]}s" for f in families)
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
    ctx: TaskContext, params: VectorParams, columns: list[Column], families: list[int], totals: dict[str, Any]
) -> list[dict[str, Any]]:
    tables = []
    with psycopg.connect(ctx.database_url, row_factory=psycopg.rows.dict_row) as conn:
        for family in families:
            suffix = SUFFIXES[family] if len(families) > 1 else ""
            final, staging = params.table_name + suffix, staging_name(ctx.job_id, family)
            require_free(conn, params.target_schema, final)
            drop_table(conn, params.target_schema, staging)  # left by an earlier attempt
            create_table(
                conn, params.target_schema, staging, columns, family, params.geometry_column, params.keep_z
            )
            tables.append(
                {
                    "family": family,
                    "suffix": suffix,
                    "table_name": final,
                    "staging": staging,
                    "expected": totals["families"][family],
                    "bbox": totals["bounds"][family],
                    "geometry_type": ("MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")[family],
                }
            )
    return tables


def _merge_reports(ctx: TaskContext, params: VectorParams, paths: list[str]) -> dict[str, str] | None:
    """One CSV of every part's repaired and dropped features, in source order."""
    if not paths:
        return None
    path = f"{params.work_prefix}/repair-report.csv"
    body = b"".join(ctx.storage.get("silver", p) for p in paths)
    ctx.storage.put("silver", path, REPORT_HEADER + body)
    return {"container": "silver", "path": path}
