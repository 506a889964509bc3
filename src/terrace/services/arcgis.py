"""ArcGIS REST Map, Feature and Image servers: the service's `?f=json` description."""

from __future__ import annotations

import re
from typing import Any

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from terrace.outbound import Outbound, OutboundFailed
from terrace.services.capabilities import Capabilities, Probe, json_body

SERVER = re.compile(r"/rest/services/.+/(MapServer|FeatureServer|ImageServer)/?$", re.IGNORECASE)
TYPES = {
    "mapserver": "arcgis-mapserver",
    "featureserver": "arcgis-featureserver",
    "imageserver": "arcgis-imageserver",
}


def server_kind(path: str) -> str | None:
    """The service type an ArcGIS REST URL path names, or None."""
    found = SERVER.search(path)
    return TYPES[found.group(1).lower()] if found else None


def detect(client: Outbound, url: str, service_type: str) -> Probe:
    """The summary of the ArcGIS REST service at `url` (which names its type)."""
    check_url = url.split("?", 1)[0].rstrip("/") + "?f=json"
    description = json_body(client.get(check_url))
    if "error" in description or "currentVersion" not in description:
        message = (description.get("error") or {}).get("message", "no currentVersion")
        raise OutboundFailed(
            f"{url[:200]} is not an ArcGIS REST service description ({str(message)[:200]}).",
            "Give the URL of a MapServer, FeatureServer or ImageServer.",
        )
    layers = [str(x.get("name")) for x in description.get("layers") or [] if isinstance(x, dict)]
    if service_type == "arcgis-imageserver":
        layers = [str(description.get("name") or "image")]
    reference = description.get("spatialReference") or {}
    wkid = reference.get("latestWkid") or reference.get("wkid")
    capabilities = Capabilities.of(
        title=_title(description),
        version=str(description["currentVersion"]),
        layers=layers,
        crs=[f"EPSG:{wkid}"] if wkid else [],
        boxes=[_extent(description.get("fullExtent") or description.get("extent"))],
    )
    return Probe(service_type=service_type, capabilities=capabilities, check_url=check_url)


def _title(description: dict[str, Any]) -> str | None:
    info = description.get("documentInfo") or {}
    for value in (
        info.get("Title"),
        description.get("mapName"),
        description.get("name"),
        description.get("serviceDescription"),
    ):
        if value:
            return str(value)
    return None


def _extent(extent: dict[str, Any] | None) -> list[float] | None:
    """The extent in WGS84; None when it or its spatial reference is missing or unknown."""
    if not extent or "xmin" not in extent:
        return None
    reference = extent.get("spatialReference") or {}
    wkid = reference.get("latestWkid") or reference.get("wkid")
    if wkid is None:
        return None
    try:
        transformer = Transformer.from_crs(CRS.from_epsg(int(wkid)), "EPSG:4326", always_xy=True)
    except (CRSError, TypeError, ValueError):
        return None
    box = transformer.transform_bounds(extent["xmin"], extent["ymin"], extent["xmax"], extent["ymax"])
    return [round(v, 6) for v in box]
