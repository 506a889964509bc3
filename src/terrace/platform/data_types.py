"""What kind of data a submission holds, told from its file names, and the job that processes it."""

from __future__ import annotations

from pathlib import PurePosixPath

from terrace.errors import InvalidInput
from terrace.ingest.vector.sources import FORMATS

VECTOR_EXTENSIONS = frozenset(FORMATS)
# GeoTIFF, JPEG2000, ERDAS Imagine, JPEG/PNG (placed by a world file or .aux.xml beside them),
# MBTiles, GRIB, and the PROJ grids GDAL reads (NTv2 .gsb, vertical .gtx).
RASTER_EXTENSIONS = frozenset(
    {
        ".tif",
        ".tiff",
        ".jp2",
        ".j2k",
        ".img",
        ".jpg",
        ".jpeg",
        ".png",
        ".mbtiles",
        ".grib",
        ".grb",
        ".grb2",
        ".grib2",
        ".gsb",
        ".gtx",
    }
)
JOB_TYPES = {
    "vector": "process_vector",
    "raster": "process_raster",
    "raster_collection": "process_raster_collection",
}


def infer_data_type(files: list[str]) -> str:
    """'vector' or 'raster' for one file, 'raster_collection' for several rasters (by extension)."""
    if not files:
        raise InvalidInput("The submission names no file.", "Set file_name to the file to publish.")
    suffixes = {PurePosixPath(f).suffix.lower() for f in files}
    if len(files) > 1:
        if suffixes <= RASTER_EXTENSIONS:
            return "raster_collection"
        raise InvalidInput(
            "A list of files is a raster collection: every file must be a raster.",
            f"Submit raster files ({', '.join(sorted(RASTER_EXTENSIONS))}).",
        )
    (suffix,) = suffixes
    if suffix in VECTOR_EXTENSIONS:
        return "vector"
    if suffix in RASTER_EXTENSIONS:
        return "raster"
    raise InvalidInput(
        f"Cannot tell the data type of {files[0]!r} from its extension {suffix or '(none)'}.",
        f"Supported: vector {', '.join(sorted(VECTOR_EXTENSIONS))}; "
        f"raster {', '.join(sorted(RASTER_EXTENSIONS))}.",
    )
