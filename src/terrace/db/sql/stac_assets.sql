-- The stored (internal) hrefs of STAC assets, run through stac-fastapi's asyncpg pool.

-- name: item_asset_href
-- $1 collection id, $2 item id, $3 asset key
SELECT pgstac.get_item($2::text, $1::text) -> 'assets' -> $3::text ->> 'href';

-- name: collection_asset_href
-- $1 collection id, $2 asset key
SELECT pgstac.get_collection($1::text) -> 'assets' -> $2::text ->> 'href';
