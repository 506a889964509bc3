"""The mosaic of several COGs as a GDAL VRT: one raster GDAL, rasterio and tilers read as a whole."""

from __future__ import annotations

import math
import posixpath
from typing import Any
from xml.etree import ElementTree as ET

GDAL_TYPES = {
    "uint8": "Byte",
    "int8": "Int8",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "float32": "Float32",
}


def _number(value: float) -> str:
    return "nan" if math.isnan(value) else repr(value)


def mosaic_vrt(rows: list[dict[str, Any]], vrt_path: str) -> bytes:
    """A VRT over the COGs of `rows` (same CRS, bands and type), at the finest of their resolutions.

    Sources are named relative to the VRT, so the mosaic stays valid wherever silver lives.
    """
    res_x = min(abs(r["resolution"][0]) for r in rows)
    res_y = min(abs(r["resolution"][1]) for r in rows)
    left, top = min(r["bbox"][0] for r in rows), max(r["bbox"][3] for r in rows)
    right, bottom = max(r["bbox"][2] for r in rows), min(r["bbox"][1] for r in rows)
    root = ET.Element(
        "VRTDataset",
        rasterXSize=str(round((right - left) / res_x)),
        rasterYSize=str(round((top - bottom) / res_y)),
    )
    ET.SubElement(root, "SRS").text = rows[0]["crs"]
    ET.SubElement(root, "GeoTransform").text = ", ".join(map(repr, (left, res_x, 0.0, top, 0.0, -res_y)))
    for band in rows[0]["bands"]:
        _band(root, band, rows, (left, top, res_x, res_y), posixpath.dirname(vrt_path))
    return ET.tostring(root)


def _band(
    root: ET.Element,
    band: dict[str, Any],
    rows: list[dict[str, Any]],
    origin: tuple[float, float, float, float],
    folder: str,
) -> None:
    left, top, res_x, res_y = origin
    element = ET.SubElement(
        root, "VRTRasterBand", dataType=GDAL_TYPES[rows[0]["dtype"]], band=str(band["index"])
    )
    nodata = rows[0]["nodata"]
    if nodata is not None:
        ET.SubElement(element, "NoDataValue").text = _number(nodata)
    ET.SubElement(element, "ColorInterp").text = band["colorinterp"].capitalize()
    for row in rows:
        # With a nodata value, a ComplexSource lets a neighbour's valid pixels show through.
        source = ET.SubElement(element, "ComplexSource" if nodata is not None else "SimpleSource")
        ET.SubElement(source, "SourceFilename", relativeToVRT="1").text = posixpath.relpath(
            row["path"], folder
        )
        ET.SubElement(source, "SourceBand").text = str(band["index"])
        ET.SubElement(
            source, "SrcRect", xOff="0", yOff="0", xSize=str(row["width"]), ySize=str(row["height"])
        )
        ET.SubElement(
            source,
            "DstRect",
            xOff=repr((row["bbox"][0] - left) / res_x),
            yOff=repr((top - row["bbox"][3]) / res_y),
            xSize=repr((row["bbox"][2] - row["bbox"][0]) / res_x),
            ySize=repr((row["bbox"][3] - row["bbox"][1]) / res_y),
        )
        if nodata is not None:
            ET.SubElement(source, "NODATA").text = _number(nodata)
