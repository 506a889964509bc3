"""The Python models: single source of truth for the `app` schema and `geo.table_catalog`."""

from __future__ import annotations

from terrace.db.models import (
    auth,
    catalog,
    common,
    consistency,
    orchestration,
    raster,
    releases,
    services,
    vector,
    web,
    workers,
)
from terrace.db.models.base import SqlFunction, Trigger, metadata

FUNCTIONS: tuple[SqlFunction, ...] = (
    common.SET_UPDATED_AT,
    catalog.VISIBLE_TO,
    releases.RELEASE_VISIBLE_TO,
    *orchestration.FUNCTIONS,
)
TRIGGERS: tuple[Trigger, ...] = (
    *catalog.TRIGGERS,
    *releases.TRIGGERS,
    *orchestration.TRIGGERS,
    *raster.TRIGGERS,
)

__all__ = [
    "FUNCTIONS",
    "TRIGGERS",
    "auth",
    "catalog",
    "consistency",
    "metadata",
    "orchestration",
    "raster",
    "releases",
    "services",
    "vector",
    "web",
    "workers",
]
