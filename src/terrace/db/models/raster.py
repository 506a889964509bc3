"""app.cog_metadata: one row per COG in silver, enough to rebuild its STAC item without reading it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import Trigger, created_at, metadata, updated_at
from terrace.db.models.common import SET_UPDATED_AT

FLOAT = sa.Float(precision=53)

cog_metadata = sa.Table(
    "cog_metadata",
    metadata,
    sa.Column("container", sa.Text, primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("release_id", sa.Text),
    sa.Column("dataset_id", sa.Text, nullable=False),
    sa.Column("resource_id", sa.Text, nullable=False),
    sa.Column("collection_id", sa.Text, nullable=False),
    # The item's place in its release: the source's stem, plus the tile for a tiled raster.
    sa.Column("part", sa.Text, nullable=False),
    sa.Column("source_container", sa.Text, nullable=False),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("tier", sa.Text, nullable=False),
    sa.Column("rewritten", sa.Boolean, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("band_count", sa.Integer, nullable=False),
    sa.Column("dtype", sa.Text, nullable=False),
    sa.Column("nodata", FLOAT),
    sa.Column("crs", sa.Text, nullable=False),
    sa.Column("epsg", sa.Integer),
    sa.Column("transform", pg.ARRAY(FLOAT), nullable=False),
    sa.Column("resolution", pg.ARRAY(FLOAT), nullable=False),
    sa.Column("bbox", pg.ARRAY(FLOAT), nullable=False),  # in `crs`
    sa.Column("bbox_4326", pg.ARRAY(FLOAT), nullable=False),
    sa.Column("footprint", pg.JSONB, nullable=False),  # GeoJSON polygon in EPSG:4326
    sa.Column("overviews", pg.ARRAY(sa.Integer), nullable=False),
    sa.Column("block_size", pg.ARRAY(sa.Integer), nullable=False),
    sa.Column("compression", sa.Text),
    sa.Column("resampling", sa.Text, nullable=False),
    sa.Column("bands", pg.JSONB, nullable=False),  # per band: name, colorinterp, description
    sa.Column("statistics", pg.JSONB, nullable=False),
    sa.Column("rescale", pg.JSONB, nullable=False),
    sa.Column("colormap", pg.JSONB),
    sa.Column("thumbnail_path", sa.Text),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("acquired_at", pg.TIMESTAMP(timezone=True)),
    created_at(),
    updated_at(),
    sa.Index("ix_cog_metadata_job_id", "job_id"),
    sa.Index("ix_cog_metadata_release_id", "release_id"),
    schema="app",
)

TRIGGERS = (Trigger("trg_cog_metadata_updated_at", cog_metadata, SET_UPDATED_AT, "BEFORE UPDATE"),)
