"""Zonal statistics: a raster release summarised over H3 cells or polygons, as a draft release."""
