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

-- name: visible_served_tables
SELECT table_name, title, access_level::text AS access_level, feature_count, geometry_type, bbox
FROM geo.table_catalog
WHERE schema_name = 'geo' AND geo.visible_to(access_level, granted_roles, %(levels)s, %(roles)s)
  AND (%(search)s::text IS NULL OR table_name ILIKE '%%' || %(search)s || '%%'
       OR title ILIKE '%%' || %(search)s || '%%')
ORDER BY table_name;

-- name: stac_collections
SELECT id, content ->> 'title' AS title, content ->> 'description' AS description,
       content ->> 'terrace:access_level' AS access_level, content -> 'extent' -> 'spatial' -> 'bbox' -> 0 AS bbox
FROM pgstac.collections
WHERE (%(search)s::text IS NULL OR id ILIKE '%%' || %(search)s || '%%')
ORDER BY id;

-- name: cogs_of_release
SELECT container, path, part, thumbnail_path, statistics, bbox_4326, width, height, band_count, dtype, kind
FROM app.cog_metadata WHERE release_id = %(release_id)s ORDER BY part;

-- name: stac_item
SELECT pgstac.get_item(%(item_id)s, %(collection_id)s) AS item;
