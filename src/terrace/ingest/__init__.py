"""Ingest pipelines: raw files in bronze become PostGIS tables (vector) or COGs (raster)."""
