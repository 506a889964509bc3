"""Analytics: H3 grids and zonal statistics (SPEC §13)."""
