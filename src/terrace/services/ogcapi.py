"""OGC API (Features, Tiles, Records) and STAC API: the landing page, its conformance and collections."""

from __future__ import annotations

import re
from typing import Any

from httpx import URL

from terrace.outbound import Outbound
from terrace.services.capabilities import Capabilities, Probe, json_body

JSON = {"Accept": "application/json"}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# The conformance classes that name each OGC API type, checked in this order.
TYPES = (
    ("ogcapi-features", "/spec/ogcapi-features-1/"),
    ("ogcapi-records", "/spec/ogcapi-records-1/"),
    ("ogcapi-tiles", "/spec/ogcapi-tiles-1/"),
)
STAC_API = "https://api.stacspec.org/"
_VERSION = re.compile(r"/spec/[\w-]+/(\d+(?:\.\d+)*)/")


def link(document: dict[str, Any], rel: str) -> str | None:
    """The href of the first link with relation `rel` (JSON preferred)."""
    links = [x for x in document.get("links") or [] if isinstance(x, dict) and x.get("rel") == rel]
    links.sort(key=lambda x: "json" not in str(x.get("type", "json")))
    return str(links[0]["href"]) if links and links[0].get("href") else None


def detect(client: Outbound, url: str, landing: dict[str, Any]) -> Probe | None:
    """The OGC API or STAC API behind `landing` (the JSON at `url`), or None if it is neither."""
    classes = [str(c) for c in landing.get("conformsTo") or []]
    conformance = link(landing, "conformance")
    if not classes and conformance:
        classes = [str(c) for c in json_body(client.get(_join(url, conformance), JSON)).get("conformsTo", [])]
    if landing.get("type") == "Catalog" and (link(landing, "search") or any(STAC_API in c for c in classes)):
        return _summarise(client, url, landing, "stac-api", str(landing.get("stac_version") or "") or None)
    for service_type, marker in TYPES:
        matching = [c for c in classes if marker in c]
        if matching:
            found = _VERSION.search(matching[0])
            return _summarise(client, url, landing, service_type, found.group(1) if found else None)
    return None


def _summarise(
    client: Outbound, url: str, landing: dict[str, Any], service_type: str, version: str | None
) -> Probe:
    data = link(landing, "data")
    collections: list[dict[str, Any]] = []
    matched = None
    if data or service_type != "ogcapi-tiles":
        listing = json_body(client.get(_join(url, data or "collections"), JSON))
        collections = [c for c in listing.get("collections") or [] if isinstance(c, dict)]
        matched = listing.get("numberMatched")
    capabilities = Capabilities.of(
        title=landing.get("title"),
        version=version,
        layers=[str(c.get("id")) for c in collections],
        crs=[str(crs) for c in collections for crs in c.get("crs") or [CRS84]],
        boxes=[_bbox(c) for c in collections],
        layer_count=matched if isinstance(matched, int) else None,
    )
    return Probe(service_type=service_type, capabilities=capabilities, check_url=url)


def _bbox(collection: dict[str, Any]) -> list[float] | None:
    boxes = ((collection.get("extent") or {}).get("spatial") or {}).get("bbox") or []
    return boxes[0] if boxes and isinstance(boxes[0], list) else None


def _join(base: str, href: str) -> str:
    return str(URL(base.rstrip("/") + "/").join(href))
