"""STAC: items and collections built from app.cog_metadata, loaded into pgSTAC at approval."""
