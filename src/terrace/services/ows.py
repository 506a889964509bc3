"""WMS, WMTS and WFS: GetCapabilities documents, parsed only once they are known to hold no entities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeXml
from defusedxml import DefusedXmlException
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService
from owslib.wmts import WebMapTileService

from terrace.outbound import Fetched, OutboundFailed
from terrace.services.capabilities import Capabilities, Probe

# Root element (without namespace) → service type; WMTS's root is plain `Capabilities`.
ROOTS = {
    "WMS_Capabilities": "wms",
    "WMT_MS_Capabilities": "wms",
    "WFS_Capabilities": "wfs",
    "Capabilities": "wmts",
}
SERVICES = ("WMS", "WFS", "WMTS")  # tried in turn on a URL that is no capabilities document


def safe_root(response: Fetched) -> Element | None:
    """The root of the XML document in `response`, None if it is not XML at all.

    A document declaring entities (external ones read files or URLs; nested ones expand
    exponentially) is refused before any parser that would expand them sees it."""
    try:
        return SafeXml.fromstring(response.content)
    except DefusedXmlException as exc:
        raise OutboundFailed(
            f"{response.url[:200]} answered with XML declaring entities ({type(exc).__name__}); "
            "Terrace does not read such documents.",
            "Give the URL of a service whose capabilities document has no DOCTYPE entities.",
            code="UNSAFE_XML",
        ) from None
    except ParseError:
        return None


def detect(response: Fetched, root: Element) -> Probe | None:
    """The WMS, WMTS or WFS whose capabilities `response` holds (already checked by `safe_root`)."""
    service_type = ROOTS.get(root.tag.rsplit("}", 1)[-1])
    if service_type is None or (service_type == "wmts" and "wmts" not in root.tag):
        return None
    version = root.get("version")
    capabilities = _PARSERS[service_type](response, version)
    return Probe(service_type=service_type, capabilities=capabilities, check_url=response.url)


def _wms(response: Fetched, version: str | None) -> Capabilities:
    wms = WebMapService(response.url, version=version or "1.3.0", xml=response.content)
    layers = list(wms.contents.values())
    return _summary(wms.identification.title, wms.version, layers, (c for x in layers for c in x.crsOptions))


def _wfs(response: Fetched, version: str | None) -> Capabilities:
    wfs = WebFeatureService(response.url, version=version or "2.0.0", xml=response.content)
    layers = list(wfs.contents.values())
    crs = (c.getcode() if hasattr(c, "getcode") else str(c) for x in layers for c in x.crsOptions)
    return _summary(wfs.identification.title, wfs.version, layers, crs)


def _wmts(response: Fetched, version: str | None) -> Capabilities:
    wmts = WebMapTileService(response.url, version=version or "1.0.0", xml=response.content)
    crs = (str(tms.crs) for tms in wmts.tilematrixsets.values())
    return _summary(wmts.identification.title, wmts.version, list(wmts.contents.values()), crs)


def _summary(title: str | None, version: str | None, layers: list[Any], crs: Iterable[str]) -> Capabilities:
    return Capabilities.of(
        title=title,
        version=version,
        layers=[str(x.id) for x in layers],
        crs=crs,
        boxes=[_wgs84(x) for x in layers],
    )


def _wgs84(layer: Any) -> list[float] | None:
    box = getattr(layer, "boundingBoxWGS84", None)
    return [float(v) for v in box[:4]] if box else None


_PARSERS = {"wms": _wms, "wfs": _wfs, "wmts": _wmts}
