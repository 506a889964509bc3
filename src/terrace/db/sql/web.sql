-- name: geometry_column
SELECT f_geometry_column AS column_name FROM geometry_columns
WHERE f_table_schema = %(schema)s AND f_table_name = %(table)s
ORDER BY f_geometry_column LIMIT 1;

-- name: columns
SELECT column_name AS name, data_type AS type FROM information_schema.columns
WHERE table_schema = %(schema)s AND table_name = %(table)s
ORDER BY ordinal_position;

-- name: visible_served_table
SELECT table_name, title, access_level::text AS access_level, feature_count, bbox
FROM geo.table_catalog
WHERE schema_name = 'geo' AND table_name = %(table)s
  AND geo.visible_to(access_level, granted_roles, %(levels)s, %(roles)s);

-- name: catalog_entries
-- The latest served release of each asset the caller may see (the serving rule), its extent, and
-- how many of its versions are served; narrowed by text, data type, dataset and a bounding box.
WITH served AS (
    SELECT r.*, count(*) OVER (PARTITION BY r.asset_id) AS versions,
           row_number() OVER (PARTITION BY r.asset_id ORDER BY r.version_ordinal DESC) AS rank
    FROM app.asset_releases r
    WHERE r.approval_state = 'approved' AND r.is_served
      AND geo.visible_to(r.access_level, r.granted_roles, %(levels)s, %(roles)s)
), latest AS (
    SELECT s.*, a.dataset_id, a.resource_id, a.data_type::text AS data_type,
           coalesce(
               (SELECT ST_Extent(ST_MakeEnvelope(c.bbox[1], c.bbox[2], c.bbox[3], c.bbox[4], 4326))
                FROM app.release_tables t
                JOIN geo.table_catalog c ON c.schema_name = t.schema_name AND c.table_name = t.table_name
                WHERE t.release_id = s.release_id AND t.schema_name = 'geo' AND t.table_role <> 'view'),
               (SELECT ST_Extent(ST_MakeEnvelope(m.bbox_4326[1], m.bbox_4326[2], m.bbox_4326[3], m.bbox_4326[4], 4326))
                FROM app.cog_metadata m WHERE m.release_id = s.release_id)) AS box
    FROM served s JOIN app.assets a USING (asset_id)
    WHERE s.rank = 1
)
SELECT release_id, dataset_id, resource_id, data_type, version_id, title, description,
       access_level::text AS access_level, reviewed_at, versions,
       CASE WHEN box IS NOT NULL THEN ARRAY[ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box)] END AS bbox
FROM latest
WHERE (%(search)s::text IS NULL OR dataset_id ILIKE '%%' || %(search)s || '%%'
       OR resource_id ILIKE '%%' || %(search)s || '%%' OR title ILIKE '%%' || %(search)s || '%%'
       OR description ILIKE '%%' || %(search)s || '%%')
  AND (%(data_type)s::text IS NULL OR data_type = %(data_type)s)
  AND (%(dataset)s::text IS NULL OR dataset_id = %(dataset)s)
  AND (%(bbox)s::float8[] IS NULL
       OR box && ST_MakeEnvelope(%(bbox)s[1], %(bbox)s[2], %(bbox)s[3], %(bbox)s[4], 4326))
ORDER BY dataset_id, resource_id;

-- name: catalog_datasets
SELECT DISTINCT a.dataset_id
FROM app.assets a JOIN app.asset_releases r USING (asset_id)
WHERE r.approval_state = 'approved' AND r.is_served
  AND geo.visible_to(r.access_level, r.granted_roles, %(levels)s, %(roles)s)
ORDER BY a.dataset_id;

-- name: served_release
SELECT release_id, access_level::text AS access_level, granted_roles FROM app.asset_releases
WHERE release_id = %(release_id)s AND approval_state = 'approved' AND is_served;

-- name: cogs_of_release
SELECT container, path, part, thumbnail_path, statistics, bbox_4326, width, height, band_count, dtype, kind
FROM app.cog_metadata WHERE release_id = %(release_id)s ORDER BY part;

-- name: stac_item
SELECT pgstac.get_item(%(item_id)s, %(collection_id)s) AS item;
