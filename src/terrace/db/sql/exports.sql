-- Queries of exports (terrace.exports), run as the serving role on a served table.

-- name: served_geometry
-- The geometry column of a served relation, as PostGIS registers it (views too).
SELECT f_geometry_column AS name, type, srid, coord_dimension AS dimensions
FROM geometry_columns
WHERE f_table_schema = %(schema)s AND f_table_name = %(table)s
ORDER BY f_geometry_column
LIMIT 1;

-- name: served_columns
-- The columns of a served relation in their order, with their element type for arrays.
SELECT a.attname AS name, t.typname AS type, t.typcategory = 'A' AS is_array
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
