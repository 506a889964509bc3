"""Stage 1 of process_vector: open the file, check what can be checked before reading it, and cut
it into the parts that prepare tasks read in parallel."""

from __future__ import annotations

from pathlib import PurePosixPath

import pyproj

from terrace.errors import InvalidInput
from terrace.ingest.release import JobWarning, require_own_outputs
from terrace.ingest.vector.columns import plan_columns
from terrace.ingest.vector.contracts import Inspected, SourceFile
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.sources import Part, open_source
from terrace.ingest.vector.tables import require_free
from terrace.orchestration.definitions import NoInput, TaskContext


def inspect(ctx: TaskContext[VectorParams, NoInput]) -> Inspected:
    params = ctx.params
    params.require_access_level()
    with ctx.connect() as conn:
        require_own_outputs(conn, params)
    with (
        ctx.storage.local_copy(params.container, params.path) as path,
        open_source(path, params.read_options) as source,
    ):
        crs, warnings = source_crs(source.crs, params.crs, path.name, source.format)
        columns, column_warnings = plan_columns(source.schema, path.name)
        # Each part's task reads the file itself: from cloud storage that would be a download
        # per part, so there the file is one part.
        local = ctx.storage.local_path(params.container, params.path) is not None
        parts = source.parts(params.chunk_size) if local else [Part()]
        info = SourceFile(file=params.path, format=source.format, layer=source.layer, crs=crs.to_string())
    with ctx.connect() as conn:
        require_free(conn, params.target_schema, params.table_name)
    found = Inspected(source=info, columns=columns, warnings=warnings + column_warnings, parts=parts)
    kept = found.model_dump_json(exclude={"parts"})  # what the stage task reads back as an Inspection
    ctx.storage.put("silver", f"{params.work_prefix}/inspect.json", kept.encode())
    return found


def source_crs(
    found: str | None, given: str | None, name: str, fmt: str
) -> tuple[pyproj.CRS, list[JobWarning]]:
    """The source CRS; coordinates in a CSV without one are taken as WGS 84 longitude/latitude."""
    text = given or found
    if not text and fmt == "CSV":
        assumed = JobWarning(
            code="CRS_ASSUMED", count=1, message="CSV coordinates taken as EPSG:4326 (WGS 84)"
        )
        return pyproj.CRS.from_epsg(4326), [assumed]
    if not text:
        where = {
            "ESRI Shapefile": f" (no {PurePosixPath(name).stem}.prj beside it)",
            "Shapefile (zip)": " (no .prj in the archive)",
        }.get(fmt, "")
        raise InvalidInput(
            f"{name} has no coordinate reference system{where}.",
            "Add the .prj file, or give the CRS in the `crs` option, e.g. EPSG:4326.",
        )
    try:
        return pyproj.CRS.from_user_input(text), []
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInput(
            f"{name}: unknown coordinate reference system {text!r}.",
            "Give a valid CRS in the `crs` option, e.g. EPSG:32748.",
        ) from exc
