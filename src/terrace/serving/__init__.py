"""Serving: OGC API – Features, STAC API and raster tiles, behind one visibility rule."""

from terrace.serving.apps import ServingApps
from terrace.serving.visibility import Audience, Gate

__all__ = ["Audience", "Gate", "ServingApps"]
