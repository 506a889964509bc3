-- Queries of the tiles API, run through titiler-pgstac's psycopg pool (search_path pgstac, public).

-- name: item
SELECT pgstac.get_collection(%(collection_id)s) AS collection,
       pgstac.get_item(%(item_id)s, %(collection_id)s) AS item;

-- name: collection
SELECT pgstac.get_collection(%(collection_id)s) AS collection;
