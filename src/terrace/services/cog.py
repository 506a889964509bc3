"""Cloud-Optimized GeoTIFFs: the header bytes, read through the guarded client and opened in memory."""

from __future__ import annotations

import rasterio
from rasterio.errors import RasterioError
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds

from terrace.outbound import Fetched, Outbound, OutboundFailed
from terrace.services.capabilities import Capabilities, Probe

HEADER_BYTES = 1024**2  # a COG keeps every IFD (and so all metadata) at the start of the file
MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def is_tiff(content: bytes) -> bool:
    return content[:4] in MAGIC


def fetch_header(client: Outbound, url: str) -> Fetched:
    """The first HEADER_BYTES of `url` (a range request; a server ignoring it is cut off there)."""
    return client.get(url, {"Range": f"bytes=0-{HEADER_BYTES - 1}"}, head_bytes=HEADER_BYTES)


def detect(response: Fetched) -> Probe:
    """The summary of the GeoTIFF whose first bytes `response` holds."""
    try:
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), MemoryFile(response.content) as memory:
            with memory.open() as dataset:
                layout = dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT")
                crs = dataset.crs
                extent = transform_bounds(crs, "EPSG:4326", *dataset.bounds) if crs else None
                capabilities = Capabilities.of(
                    title=(dataset.tags().get("TIFFTAG_DOCUMENTNAME") or response.url.rsplit("/", 1)[-1]),
                    version=layout or "GeoTIFF",
                    layers=[f"band {i}" for i in dataset.indexes],
                    crs=[crs.to_string()] if crs else [],
                    boxes=[list(extent)] if extent else [],
                )
    except RasterioError as exc:
        raise OutboundFailed(
            f"{response.url[:200]} is a TIFF whose header cannot be read: {str(exc)[:200]}.",
            "Give the URL of a Cloud-Optimized GeoTIFF.",
        ) from None
    return Probe(service_type="cog", capabilities=capabilities, check_url=response.url)
