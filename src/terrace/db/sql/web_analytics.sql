-- The Analytics page (terrace.web.pages.analytics).

-- name: served_aggregates
-- Served zonal statistics releases the caller may see (the serving rule), newest version first.
SELECT r.release_id, a.dataset_id, a.resource_id, r.version_id, r.access_level::text AS access_level,
       r.outputs -> 'stats' AS stats
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.approval_state = 'approved' AND r.is_served AND r.outputs ? 'raster_release_id'
  AND geo.visible_to(r.access_level, r.granted_roles, %(levels)s, %(roles)s)
  AND (%(release_id)s::text IS NULL OR r.release_id = %(release_id)s)
ORDER BY a.dataset_id, a.resource_id, r.version_ordinal DESC;
