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

-- name: linearize
-- Geometries GEOS cannot read, as ISO WKB of what they approximate or are made of, in order:
-- curves linearized, the faces of TINs and polyhedral surfaces as polygons.
SELECT ST_AsBinary(COALESCE(faces.geom, linear.geom)) AS wkb
FROM unnest(%(wkb)s::bytea[]) WITH ORDINALITY AS source(wkb, n)
CROSS JOIN LATERAL ST_CurveToLine(ST_GeomFromWKB(source.wkb)) AS linear(geom)
CROSS JOIN LATERAL (
    SELECT ST_Collect(
        CASE GeometryType(part.geom)
            WHEN 'TRIANGLE' THEN ST_MakePolygon(ST_ExteriorRing(part.geom))
            ELSE part.geom
        END ORDER BY part.path) AS geom
    FROM ST_Dump(linear.geom) AS part
) AS faces
ORDER BY n;
