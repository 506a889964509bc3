"""STAC items and collections built from app.cog_metadata rows (projection, raster, eo, render)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pystac
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, NoDataStrings, RasterBand, RasterExtension, Statistics
from pystac.extensions.render import Render, RenderExtension

COG_MEDIA_TYPE = pystac.MediaType.COG
VRT_MEDIA_TYPE = "application/xml"
COMMON_NAMES = {"red": "red", "green": "green", "blue": "blue"}
IMAGERY = ("rgb", "rgba", "multispectral")
DRAFT = "draft"

# Resolves (container, path) to the URL clients read the object by.
Href = Callable[[str, str], str]


def item_id(dataset_id: str, resource_id: str, version: str, part: str = "") -> str:
    """`{dataset}-{resource}-{version}`, then `-{part}` for items that are one of several."""
    return "-".join(p for p in (dataset_id, resource_id, version, part) if p)


def build_item(
    row: dict[str, Any], href: Href, *, title: str | None = None, version: str = DRAFT
) -> pystac.Item:
    """The item of one COG: unpublished until approval sets `app:published`."""
    item = pystac.Item(
        id=item_id(row["dataset_id"], row["resource_id"], version, row["part"]),
        geometry=row["footprint"],
        bbox=row["bbox_4326"],
        datetime=row["acquired_at"] or row["created_at"],
        properties={
            "title": title,
            "created": row["created_at"].astimezone(UTC).isoformat(),
            "app:published": False,
            "terrace:dataset_id": row["dataset_id"],
            "terrace:resource_id": row["resource_id"],
            "terrace:part": row["part"],
            "terrace:kind": row["kind"],
            "terrace:tier": row["tier"],
        },
        collection=row["collection_id"],
    )
    ProjectionExtension.ext(item, add_if_missing=True).apply(
        code=f"EPSG:{row['epsg']}" if row["epsg"] else None,
        wkt2=None if row["epsg"] else row["crs"],
        bbox=row["bbox"],
        shape=[row["height"], row["width"]],
        transform=row["transform"],
    )
    item.add_asset(
        "data",
        pystac.Asset(
            href(row["container"], row["path"]), media_type=COG_MEDIA_TYPE, roles=["data"], title="COG"
        ),
    )
    _describe_data(item.assets["data"], row)
    if row["thumbnail_path"]:
        item.add_asset(
            "thumbnail",
            pystac.Asset(
                href(row["container"], row["thumbnail_path"]),
                media_type=pystac.MediaType.PNG,
                roles=["thumbnail"],
                title="Thumbnail",
            ),
        )
    RenderExtension.ext(item, add_if_missing=True).apply({"default": _render(row)})
    return item


def _describe_data(asset: pystac.Asset, row: dict[str, Any]) -> None:
    FileExtension.ext(asset, add_if_missing=True).apply(
        size=row["size_bytes"], checksum=f"1220{row['sha256']}"
    )
    RasterExtension.ext(asset, add_if_missing=True).apply(
        bands=[_raster_band(row, stats) for stats in row["statistics"]]
    )
    if row["kind"] in IMAGERY:
        EOExtension.ext(asset, add_if_missing=True).apply(
            bands=[
                Band.create(name=f"b{b['index']}", common_name=COMMON_NAMES.get(b["colorinterp"]))
                for b in row["bands"]
                if b["colorinterp"] != "alpha"
            ]
        )


def _raster_band(row: dict[str, Any], stats: dict[str, Any]) -> RasterBand:
    nodata = row["nodata"]
    return RasterBand.create(
        nodata=NoDataStrings.NAN if nodata is not None and math.isnan(nodata) else nodata,
        data_type=DataType(row["dtype"]),
        spatial_resolution=abs(row["resolution"][0]),
        statistics=Statistics.create(
            minimum=stats.get("minimum"),
            maximum=stats.get("maximum"),
            mean=stats.get("mean"),
            stddev=stats.get("stddev"),
            valid_percent=stats.get("valid_percent"),
        ),
    )


def _render(row: dict[str, Any]) -> Render:
    """What a viewer shows by default: the rescale range, or the colormap for classes."""
    single = row["band_count"] == 1 or row["kind"] in ("dem", "continuous", "categorical")
    return Render.create(
        assets=["data"],
        title=f"Default {row['kind']} rendering",
        rescale=None if row["colormap"] else row["rescale"][:1] if single else row["rescale"][:3],
        colormap=row["colormap"],
        colormap_name="terrain" if row["kind"] == "dem" else None,
        resampling={"categorical": "nearest"}.get(row["kind"], "bilinear"),
    )


def build_collection(
    collection_id: str,
    items: list[pystac.Item],
    *,
    title: str | None = None,
    description: str | None = None,
    mosaic_href: str | None = None,
) -> pystac.Collection:
    """A collection around the items; a tiled raster's carries a VRT mosaic of its tiles."""
    times = [i.datetime for i in items if i.datetime] or [datetime.now(UTC)]
    boxes = [i.bbox for i in items if i.bbox]
    collection = pystac.Collection(
        id=collection_id,
        title=title,
        description=description or f"Rasters of {collection_id}.",
        extent=pystac.Extent(
            pystac.SpatialExtent([_union(boxes)]), pystac.TemporalExtent([[min(times), max(times)]])
        ),
        license="other",
    )
    if items and "renders" in items[0].properties:
        collection.extra_fields["renders"] = items[0].properties["renders"]
        collection.stac_extensions.append(RenderExtension.get_schema_uri())
    if mosaic_href:
        collection.add_asset(
            "mosaic",
            pystac.Asset(
                mosaic_href, media_type=VRT_MEDIA_TYPE, roles=["data", "mosaic"], title="GDAL VRT mosaic"
            ),
        )
    return collection


def _union(boxes: list[list[float]]) -> list[float]:
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]
