-- name: collection_exists
SELECT EXISTS (SELECT 1 FROM pgstac.collections WHERE id = %(collection_id)s) AS exists;

-- name: create_collection
SELECT pgstac.create_collection(%(content)s);

-- name: upsert_items
SELECT pgstac.upsert_items(%(items)s);

-- name: refresh_extent
WITH extent AS (SELECT pgstac.collection_extent(%(collection_id)s, true) AS value)
UPDATE pgstac.collections SET content = jsonb_set(content, '{extent}', extent.value)
FROM extent
WHERE id = %(collection_id)s AND extent.value IS NOT NULL;

-- name: delete_items
SELECT pgstac.delete_item(id, collection) FROM pgstac.items
WHERE collection = %(collection_id)s AND id = ANY(%(item_ids)s);

-- name: collection_has_items
SELECT EXISTS (SELECT 1 FROM pgstac.items WHERE collection = %(collection_id)s) AS exists;

-- name: delete_collection
SELECT pgstac.delete_collection(%(collection_id)s);

-- name: set_search_path
SELECT current_setting('search_path') AS previous, set_config('search_path', %(path)s, true);

-- name: reset_search_path
SELECT set_config('search_path', %(path)s, true);

-- name: open_collection
-- A collection is as open as its most open item (levels from most to least open: public, ouo,
-- restricted; none counts as closed), and a restricted one is granted to every role its items are.
UPDATE pgstac.collections
SET content = content || jsonb_build_object(
    'terrace:access_level',
    CASE WHEN array_position(ARRAY['public', 'ouo', 'restricted'], %(level)s::text)
              < coalesce(array_position(ARRAY['public', 'ouo', 'restricted'], content ->> 'terrace:access_level'), 4)
         THEN %(level)s::text ELSE content ->> 'terrace:access_level' END,
    'terrace:granted_roles',
    (SELECT coalesce(jsonb_agg(DISTINCT role), '[]'::jsonb)
     FROM (SELECT jsonb_array_elements_text(coalesce(content -> 'terrace:granted_roles', '[]'::jsonb)) AS role
           UNION SELECT unnest(%(roles)s::text[])) AS roles))
WHERE id = %(collection_id)s;

-- name: served_tables
-- The served tables of a release (not its views), with the catalog rows their items are made from.
SELECT t.table_name, t.table_suffix, c.title, c.description, c.bbox, c.feature_count, c.geometry_type,
       c.properties ->> 'geometry_column' AS geometry_column
FROM app.release_tables t
JOIN geo.table_catalog c ON c.schema_name = t.schema_name AND c.table_name = t.table_name
WHERE t.release_id = %(release_id)s AND t.schema_name = 'geo' AND t.table_role <> 'view'
ORDER BY t.table_suffix;

-- name: table_columns
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
JOIN pg_class r ON r.oid = a.attrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE n.nspname = %(schema)s AND r.relname = %(name)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: set_table_item
-- The STAC item of a served table, noted on its catalog row.
UPDATE geo.table_catalog SET stac_collection_id = %(collection_id)s, stac_item_id = %(item_id)s
WHERE schema_name = 'geo' AND table_name = %(name)s;

-- name: clear_table_items
UPDATE geo.table_catalog SET stac_collection_id = NULL, stac_item_id = NULL
WHERE stac_collection_id = %(collection_id)s AND stac_item_id = ANY(%(item_ids)s);
