-- Zonal statistics (terrace.analytics.zonal): its inputs, found in the catalog.

-- name: served_release
-- The approved, served release of an asset: the version named, or the latest; only when the caller
-- may see it (the caller's levels, roles, drafts and actor, as terrace.platform.visibility gives them).
SELECT r.release_id, a.dataset_id, a.resource_id, r.version_id, a.data_type::text AS data_type,
       r.access_level::text AS access_level, r.granted_roles
FROM app.assets a JOIN app.asset_releases r USING (asset_id)
WHERE a.dataset_id = %(dataset_id)s AND a.resource_id = %(resource_id)s
  AND r.approval_state = 'approved' AND r.is_served
  AND (%(version_id)s::text IS NULL OR r.version_id = %(version_id)s)
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
ORDER BY r.version_ordinal DESC
LIMIT 1;

-- name: raster_files
-- The COGs of a served raster release (several: the tiles of one raster, or a collection), and the
-- mosaic VRT the release's outputs name when there are several.
SELECT c.container, c.path, c.band_count, c.dtype, c.nodata, c.crs, c.epsg, c.resolution, c.bbox,
       r.outputs -> 'mosaic' ->> 'path' AS mosaic
FROM app.asset_releases r JOIN app.cog_metadata c ON c.release_id = r.release_id AND c.job_id = r.job_id
WHERE r.release_id = %(release_id)s AND r.approval_state = 'approved' AND r.is_served
ORDER BY c.part;

-- name: polygon_tables
-- The polygon tables of a served vector release, with the geometry column their catalog row names.
SELECT t.schema_name, t.table_name, coalesce(c.properties ->> 'geometry_column', 'geom') AS geometry_column
FROM app.release_tables t
JOIN app.asset_releases r USING (release_id)
LEFT JOIN geo.table_catalog c ON c.schema_name = t.schema_name AND c.table_name = t.table_name
WHERE t.release_id = %(release_id)s AND r.approval_state = 'approved' AND r.is_served
  AND t.table_role <> 'view' AND t.geometry_type = 'MULTIPOLYGON'
ORDER BY t.table_suffix;

