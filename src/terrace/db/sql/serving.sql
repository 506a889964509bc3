-- Queries of the serving layer, run through asyncpg: parameters are positional ($1, $2, ...).
-- Every one joins pg_class, so a catalog row whose table is gone is never served.

-- name: visible_table
-- $1 schema, $2 table name, $3 levels, $4 roles (terrace.serving.visibility.Audience)
SELECT c.table_name, c.title, c.description, c.updated_at, r.oid AS relation,
       (c.properties ->> 'alias_of') IS NOT NULL AS is_alias
FROM geo.table_catalog c
JOIN pg_namespace n ON n.nspname = c.schema_name
JOIN pg_class r ON r.relnamespace = n.oid AND r.relname = c.table_name
WHERE c.schema_name = $1 AND c.table_name = $2
  AND geo.visible_to(c.access_level, c.granted_roles, $3::text[], $4::text[]);

-- name: visible_tables
-- $1 schema, $2 levels, $3 roles, $4 bbox [minx, miny, maxx, maxy] or NULL for all
SELECT c.table_name, c.title, c.description, c.updated_at, r.oid AS relation,
       (c.properties ->> 'alias_of') IS NOT NULL AS is_alias
FROM geo.table_catalog c
JOIN pg_namespace n ON n.nspname = c.schema_name
JOIN pg_class r ON r.relnamespace = n.oid AND r.relname = c.table_name
WHERE c.schema_name = $1
  AND geo.visible_to(c.access_level, c.granted_roles, $2::text[], $3::text[])
  AND ($4::float8[] IS NULL
       OR (c.bbox[1] <= $4[3] AND c.bbox[3] >= $4[1] AND c.bbox[2] <= $4[4] AND c.bbox[4] >= $4[2]))
ORDER BY c.table_name;

-- name: stac_collection
SELECT pgstac.get_collection($1::text);
