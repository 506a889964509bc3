"""Analytics (SPEC §13): H3 grids."""
