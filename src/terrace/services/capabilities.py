"""What a probe found out about a service: its type, a capabilities summary and the URL to check."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from terrace.outbound import Fetched, OutboundFailed

MAX_LISTED = 200  # names kept in the summary; layer_count still counts them all


class Capabilities(BaseModel):
    """The summary stored with a registered service."""

    title: str | None = None
    version: str | None = None
    layers: list[str] = Field(default_factory=list)
    layer_count: int = 0
    crs: list[str] = Field(default_factory=list)
    extent: list[float] | None = None  # [west, south, east, north] in WGS84

    @classmethod
    def of(
        cls,
        title: str | None,
        version: str | None,
        layers: list[str],
        crs: Iterable[str],
        boxes: Iterable[Iterable[float] | None],
        layer_count: int | None = None,
    ) -> Capabilities:
        return cls(
            title=title,
            version=version,
            layers=layers[:MAX_LISTED],
            layer_count=len(layers) if layer_count is None else layer_count,
            crs=sorted(set(crs))[:MAX_LISTED],
            extent=union(boxes),
        )


class Probe(BaseModel):
    """A detected service: `check_url` is what health checks fetch."""

    service_type: str
    capabilities: Capabilities
    check_url: str


def union(boxes: Iterable[Iterable[float] | None]) -> list[float] | None:
    """The bounding box of 2D boxes [w, s, e, n] (3D ones use their first and fourth values)."""
    found = []
    for box in boxes:
        values = [float(v) for v in box or ()]
        if len(values) == 6:
            values = [values[0], values[1], values[3], values[4]]
        if len(values) == 4:
            found.append(values)
    if not found:
        return None
    return [
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    ]


def json_body(response: Fetched) -> Any:
    """The JSON a response carries; OutboundFailed when it has none."""
    if response.status >= 400:
        raise OutboundFailed(
            f"{response.url[:200]} answered HTTP {response.status}.",
            "Check the URL and that the service is up.",
        )
    try:
        return json.loads(response.content)
    except ValueError:
        raise OutboundFailed(
            f"{response.url[:200]} did not answer with JSON.", "Give the service's landing page URL."
        ) from None
