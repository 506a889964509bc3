-- name: catalog_row
INSERT INTO geo.table_catalog (schema_name, table_name, title, description, bbox, feature_count, geometry_type,
    srid, table_group, keywords, access_level, properties)
VALUES (%(schema_name)s, %(table_name)s, %(title)s, %(description)s, %(bbox)s, %(feature_count)s,
    %(geometry_type)s, 4326, %(table_group)s, %(keywords)s, %(access_level)s, %(properties)s);

-- name: tracking_row
INSERT INTO app.vector_etl_tracking (job_id, table_name, schema_name, source_file, source_format, source_crs,
    source_sha256, feature_count, dropped_count, warnings, timings)
VALUES (%(job_id)s, %(table_name)s, %(schema_name)s, %(source_file)s, %(source_format)s, %(source_crs)s,
    %(source_sha256)s, %(feature_count)s, %(dropped_count)s, %(warnings)s, %(timings)s);

-- name: staging_tables
SELECT table_name FROM information_schema.tables
WHERE table_schema = %(schema)s AND table_name LIKE %(pattern)s;
