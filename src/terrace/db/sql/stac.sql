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
-- Levels from most to least open: public, ouo, restricted; a collection without one counts as closed.
UPDATE pgstac.collections
SET content = jsonb_set(content, '{terrace:access_level}', to_jsonb(%(level)s::text))
WHERE id = %(collection_id)s
  AND array_position(ARRAY['public', 'ouo', 'restricted'], %(level)s::text)
      < coalesce(array_position(ARRAY['public', 'ouo', 'restricted'], content ->> 'terrace:access_level'), 4);
