"""Serving: OGC API – Features, STAC API and raster tiles, behind one visibility rule.

The apps (`serving.apps`) are imported only by the processes that serve: importing the visibility
rule (`serving.visibility`) does not load tipg, stac-fastapi or titiler.
"""
