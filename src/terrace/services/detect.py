"""Which kind of service a URL is, and what it offers: one probe under the outbound rules."""

from __future__ import annotations

import json

import httpx

from terrace.outbound import Fetched, Outbound, OutboundFailed
from terrace.services import arcgis, cog, ogcapi, ows
from terrace.services.capabilities import Probe

ACCEPT = {"Accept": "application/json, application/xml;q=0.9, */*;q=0.5"}


# What parsing a remote document that is not what it claims to be raises (in our code, OWSLib,
# lxml, pyproj, pydantic): the service's fault, told as such, never a server error.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, SyntaxError)


def probe(client: Outbound, url: str) -> Probe:
    """Detect the service at `url` (OGC API, STAC API, WMS/WMTS/WFS, ArcGIS REST, COG) and
    summarise its capabilities; OutboundFailed when it is none of them."""
    try:
        return _detect(client, url)
    except MALFORMED as exc:
        raise OutboundFailed(
            f"{url[:200]} answered with a document Terrace could not read ({type(exc).__name__}).",
            "Check that the URL is the service's landing page or capabilities and that it is valid.",
        ) from None


def _detect(client: Outbound, url: str) -> Probe:
    parsed = httpx.URL(url)
    kind = arcgis.server_kind(parsed.path)
    if kind:
        return arcgis.detect(client, url, kind)
    if parsed.path.lower().endswith((".tif", ".tiff")):
        return cog.detect(_tiff(client, url))
    response = client.get(url, ACCEPT)
    if response.status < 400:
        found = _from_document(client, response)
        if found:
            return found
    if "request=getcapabilities" not in url.lower():
        for service in ows.SERVICES:
            query = {"SERVICE": service, "REQUEST": "GetCapabilities"}
            found = _from_capabilities(client, parsed.copy_merge_params(query))
            if found:
                return found
    raise OutboundFailed(
        f"{url[:200]} is not a service Terrace recognises (HTTP {response.status}).",
        "Give the landing page of an OGC API or STAC API, a WMS/WMTS/WFS GetCapabilities URL, "
        "an ArcGIS REST MapServer/FeatureServer/ImageServer URL or a COG's URL.",
    )


def _from_document(client: Outbound, response: Fetched) -> Probe | None:
    """The service whose landing page, capabilities or TIFF header `response` holds, if any."""
    if cog.is_tiff(response.content):
        return cog.detect(response)
    if response.content.lstrip()[:1] in (b"{", b"["):
        try:
            document = json.loads(response.content)
        except ValueError:
            return None
        return ogcapi.detect(client, response.url, document) if isinstance(document, dict) else None
    root = ows.safe_root(response)
    return ows.detect(response, root) if root is not None else None


def _from_capabilities(client: Outbound, url: httpx.URL) -> Probe | None:
    response = client.get(str(url), ACCEPT)
    if response.status >= 400:
        return None
    root = ows.safe_root(response)
    return ows.detect(response, root) if root is not None else None


def _tiff(client: Outbound, url: str) -> Fetched:
    response = cog.fetch_header(client, url)
    if response.status >= 400 or not cog.is_tiff(response.content):
        raise OutboundFailed(
            f"{url[:200]} is not a TIFF (HTTP {response.status}).",
            "Give the URL of a Cloud-Optimized GeoTIFF.",
        )
    return response
