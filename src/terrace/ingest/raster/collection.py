"""A raster collection must be homogeneous: same bands, type, CRS and kind, similar resolution."""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath

from rasterio.crs import CRS

from terrace.errors import InvalidInput
from terrace.ingest.raster.contracts import Inspection
from terrace.ingest.raster.validate import Source

RESOLUTION_TOLERANCE = 0.20


def resolution(source: Source) -> float:
    a, b, _, d, e, _ = source.transform
    return math.sqrt(abs(a * e - b * d))  # side of a square pixel of the same area; rotation-proof


def check_homogeneous(inspected: list[Inspection]) -> None:
    """Raise InvalidInput naming the first file that differs from the first file."""
    first, first_kind = inspected[0].source, inspected[0].kind
    for result in inspected[1:]:
        other = result.source
        differences = [
            f"{what} {theirs} instead of {ours}"
            for what, ours, theirs in (
                ("band count", first.count, other.count),
                ("data type", first.dtype, other.dtype),
                ("kind", first_kind, result.kind),
            )
            if ours != theirs
        ]
        if CRS.from_string(first.crs) != CRS.from_string(other.crs):
            differences.append(f"CRS {other.crs} instead of {first.crs}")
        elif abs(resolution(other) / resolution(first) - 1) > RESOLUTION_TOLERANCE:
            differences.append(
                f"resolution {resolution(other):g} instead of {resolution(first):g} (more than ±20 %)"
            )
        if differences:
            raise InvalidInput(
                f"The collection is not homogeneous: {other.path} has {'; '.join(differences)} "
                f"(compared with {first.path}).",
                "Submit files with the same band count, data type, CRS and kind and similar resolution; "
                "reproject or convert the odd ones first, or submit them as separate datasets.",
            )


def output_stems(paths: list[str]) -> list[str]:
    """One output name per file, from its file name; two files of the same name are refused."""
    stems = [
        re.sub(r"[^a-z0-9_-]+", "_", PurePosixPath(p).stem.lower()).strip("_") or "raster" for p in paths
    ]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise InvalidInput(
            f"Several files are named {', '.join(duplicates)}: their COGs would overwrite each other.",
            "Rename the files so that each name (without folder and extension) is unique.",
        )
    return stems
