-- The public target (terrace.public): its read-only role, and what the export jobs read and write there.

-- name: database_exists
SELECT 1 FROM pg_database WHERE datname = %(name)s;

-- name: role_exists
SELECT 1 FROM pg_roles WHERE rolname = %(role)s;

-- name: grant_reader
-- The public-zone API reads the exported relations of `geo` and pgSTAC, nothing else. Relations
-- the owner (the export jobs) creates later are readable by the default privileges.
GRANT USAGE ON SCHEMA geo TO terrace_public_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA geo TO terrace_public_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA geo GRANT SELECT ON TABLES TO terrace_public_reader;
GRANT pgstac_read TO terrace_public_reader;

-- name: lock_asset
-- Exports and withdrawals of one asset's releases run one at a time on the target.
SELECT pg_advisory_xact_lock(hashtext('terrace.public:' || %(asset_id)s));

-- name: table_columns
-- The source table's columns as DDL parts (types with their modifiers, e.g. geometry(MultiPolygon,4326)).
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%(relation)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: table_indexes
-- The source table's key and indexes as PostgreSQL prints them; the target has the same schema
-- and table names, so the definitions apply there unchanged.
SELECT pg_get_indexdef(i.indexrelid) AS definition, c.conname AS constraint_name,
       pg_get_constraintdef(c.oid) AS constraint_definition
FROM pg_index i
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'p'
WHERE i.indrelid = to_regclass(%(relation)s)
ORDER BY i.indisprimary DESC, i.indexrelid;

-- name: catalog_row
SELECT * FROM geo.table_catalog WHERE schema_name = 'geo' AND table_name = %(table_name)s;

-- name: insert_catalog_row
INSERT INTO geo.table_catalog (schema_name, table_name, title, description, bbox, feature_count,
    geometry_type, srid, table_group, stac_item_id, stac_collection_id, keywords, access_level, properties)
VALUES ('geo', %(table_name)s, %(title)s, %(description)s, %(bbox)s, %(feature_count)s, %(geometry_type)s,
    %(srid)s, %(table_group)s, %(stac_item_id)s, %(stac_collection_id)s, %(keywords)s, 'public', %(properties)s);

-- name: exported_tables
-- The relations of one release on the target, views (the latest aliases) first.
SELECT table_name, (properties ->> 'alias_of') IS NOT NULL AS is_alias
FROM geo.table_catalog
WHERE schema_name = 'geo' AND properties -> 'public_export' ->> 'release_id' = %(release_id)s
ORDER BY is_alias DESC, table_name;

-- name: latest_aliases
SELECT table_name FROM geo.table_catalog
WHERE schema_name = 'geo' AND properties ->> 'latest_alias_of_asset' = %(asset_id)s;

-- name: latest_exported
-- The tables of the asset's exported release with the highest ordinal: the public zone's "latest".
SELECT table_name, properties -> 'public_export' ->> 'table_suffix' AS table_suffix
FROM geo.table_catalog
WHERE schema_name = 'geo' AND properties ->> 'alias_of' IS NULL
  AND properties -> 'public_export' ->> 'asset_id' = %(asset_id)s
  AND (properties -> 'public_export' ->> 'version_ordinal')::int = (
      SELECT max((properties -> 'public_export' ->> 'version_ordinal')::int) FROM geo.table_catalog
      WHERE schema_name = 'geo' AND properties -> 'public_export' ->> 'asset_id' = %(asset_id)s
        AND properties ->> 'alias_of' IS NULL)
ORDER BY table_name;

-- name: add_latest_alias_row
INSERT INTO geo.table_catalog (schema_name, table_name, title, description, bbox, feature_count,
    geometry_type, srid, table_group, stac_item_id, stac_collection_id, keywords, access_level, properties)
SELECT 'geo', %(alias)s, title, description, bbox, feature_count, geometry_type, srid, table_group,
    stac_item_id, stac_collection_id, keywords, access_level,
    properties || jsonb_build_object('latest_alias_of_asset', %(asset_id)s::text, 'alias_of', %(source)s::text)
FROM geo.table_catalog WHERE schema_name = 'geo' AND table_name = %(source)s;

-- name: delete_catalog_row
DELETE FROM geo.table_catalog WHERE schema_name = 'geo' AND table_name = %(table_name)s;

-- name: item_content
SELECT pgstac.get_item(%(item_id)s, %(collection_id)s) AS content;

-- name: collection_content
SELECT pgstac.get_collection(%(collection_id)s) AS content;

-- name: upsert_collection
SELECT pgstac.upsert_collection(%(content)s);

-- name: held_tables
SELECT table_name, properties -> 'public_export' ->> 'release_id' AS release_id,
       (properties ->> 'alias_of') IS NOT NULL AS is_alias
FROM geo.table_catalog WHERE schema_name = 'geo' ORDER BY table_name;

-- name: held_relations
SELECT c.relname AS name, c.relkind::text AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'geo' AND c.relkind IN ('r', 'v', 'p') AND c.relname <> 'table_catalog'
ORDER BY c.relname;

-- name: held_items
SELECT collection AS collection_id, id AS item_id, content -> 'properties' ->> 'terrace:release_id' AS release_id
FROM pgstac.items ORDER BY collection, id;

-- name: relation_kind
SELECT c.relkind::text AS kind, pg_get_viewdef(c.oid) AS view_definition
FROM pg_class c WHERE c.oid = to_regclass(%(relation)s);

-- name: release_items
SELECT collection AS collection_id, id AS item_id, pgstac.get_item(id, collection) AS content FROM pgstac.items
WHERE content -> 'properties' ->> 'terrace:release_id' = %(release_id)s;
