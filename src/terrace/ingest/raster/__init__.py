"""Raster ingest: validate → COG → metadata; tiling for large rasters; collections of files."""
