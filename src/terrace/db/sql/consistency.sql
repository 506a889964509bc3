-- The catalog consistency check (terrace.consistency): each query finds one kind of drift, or
-- answers whether an object is owned. "Live" releases are those not unpublished; "served" ones
-- are approved and served. Queries that may return many rows are read through a named cursor.

-- name: clear_findings
DELETE FROM app.catalog_findings WHERE job_id = %(job_id)s AND source = %(source)s;

-- name: missing_tables
-- Tables a live release or a catalog row names that do not exist (latest aliases are checked
-- apart); all of them, or those named in `only`.
WITH named AS (
    SELECT t.schema_name, t.table_name, t.release_id
    FROM app.release_tables t JOIN app.asset_releases r USING (release_id)
    WHERE r.unpublished_at IS NULL
    UNION ALL
    SELECT c.schema_name, c.table_name, NULL
    FROM geo.table_catalog c
    WHERE NOT c.properties ? 'latest_alias_of_asset'
      AND NOT EXISTS (SELECT 1 FROM app.release_tables t
                      WHERE t.schema_name = c.schema_name AND t.table_name = c.table_name)
)
SELECT schema_name, table_name, release_id FROM named
WHERE to_regclass(format('%%I.%%I', schema_name, table_name)) IS NULL
  AND (%(only)s::text[] IS NULL OR schema_name || '.' || table_name = ANY(%(only)s))
ORDER BY schema_name, table_name;

-- name: unowned_relations
-- Relations of the data schemas that no live release, latest alias or running job owns (all of
-- them, or those named in `only`).
SELECT n.nspname AS schema_name, c.relname AS table_name, c.relkind::text AS kind,
       c.relname LIKE 'stg\_%%' AS staging
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'v', 'm', 'p') AND NOT c.relispartition
  AND (%(only)s::text[] IS NULL OR n.nspname || '.' || c.relname = ANY(%(only)s))
  AND NOT (n.nspname || '.' || c.relname) = ANY(%(model_tables)s)
  AND NOT EXISTS (
      SELECT 1 FROM app.release_tables t JOIN app.asset_releases r USING (release_id)
      WHERE r.unpublished_at IS NULL AND t.schema_name = n.nspname AND t.table_name = c.relname)
  AND NOT EXISTS (
      SELECT 1 FROM geo.table_catalog a JOIN app.asset_releases r
          ON r.asset_id = a.properties ->> 'latest_alias_of_asset' AND r.approval_state = 'approved' AND r.is_served
      WHERE a.schema_name = n.nspname AND a.table_name = c.relname)
  AND NOT EXISTS (
      SELECT 1 FROM app.vector_etl_tracking v JOIN app.jobs j USING (job_id)
      WHERE v.schema_name = n.nspname AND v.table_name = c.relname AND j.status IN ('queued', 'running'))
  AND NOT EXISTS (
      SELECT 1 FROM app.jobs j
      WHERE c.relname LIKE 'stg\_%%' AND left(j.job_id, 12) = substring(c.relname FROM 5 FOR 12)
        AND j.status IN ('queued', 'running'))
ORDER BY n.nspname, c.relname;

-- name: latest_releases
-- The latest served release of every asset (the release its `_latest` aliases follow).
SELECT DISTINCT ON (r.asset_id) r.asset_id, r.release_id, a.dataset_id, a.resource_id
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.approval_state = 'approved' AND r.is_served
ORDER BY r.asset_id, r.version_ordinal DESC;

-- name: served_tables_of
SELECT release_id, table_name, table_suffix,
       to_regclass(format('geo.%%I', table_name)) IS NOT NULL AS present
FROM app.release_tables
WHERE release_id = ANY(%(release_ids)s) AND schema_name = 'geo';

-- name: view_sources
-- The table each named view of the served schema reads from.
SELECT DISTINCT v.relname AS view_name, t.relname AS table_name
FROM pg_class v
JOIN pg_namespace n ON n.oid = v.relnamespace
JOIN pg_rewrite w ON w.ev_class = v.oid
JOIN pg_depend d ON d.objid = w.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
WHERE n.nspname = 'geo' AND v.relkind = 'v' AND v.relname = ANY(%(names)s);

-- name: missing_stac
-- Items served releases published that pgSTAC lacks, and whether their collection is there.
WITH published AS (
    SELECT r.release_id, r.outputs -> %(key)s ->> 'collection_id' AS collection_id, item.id AS item_id
    FROM app.asset_releases r
    CROSS JOIN LATERAL jsonb_array_elements_text(r.outputs -> %(key)s -> 'item_ids') AS item(id)
    WHERE r.approval_state = 'approved' AND r.is_served
)
SELECT p.release_id, p.collection_id, p.item_id,
       EXISTS (SELECT 1 FROM pgstac.collections c WHERE c.id = p.collection_id) AS has_collection
FROM published p
WHERE NOT EXISTS (SELECT 1 FROM pgstac.items i WHERE i.collection = p.collection_id AND i.id = p.item_id)
ORDER BY p.collection_id, p.item_id;

-- name: orphan_stac_items
-- Items no served release published. An item whose properties name a served release (dataset,
-- resource, version) counts as that release's even if its record was lost: never an orphan.
WITH owned AS (
    SELECT r.outputs -> %(key)s ->> 'collection_id' AS collection, item.id
    FROM app.asset_releases r
    CROSS JOIN LATERAL jsonb_array_elements_text(r.outputs -> %(key)s -> 'item_ids') AS item(id)
    WHERE r.approval_state = 'approved' AND r.is_served
)
SELECT i.collection, i.id FROM pgstac.items i
LEFT JOIN owned o ON o.collection = i.collection AND o.id = i.id
WHERE o.id IS NULL
  AND (%(collection_id)s::text IS NULL OR (i.collection = %(collection_id)s AND i.id = %(item_id)s))
  AND NOT EXISTS (
      SELECT 1 FROM app.asset_releases r JOIN app.assets a USING (asset_id)
      WHERE r.approval_state = 'approved' AND r.is_served
        AND a.dataset_id = i.content -> 'properties' ->> 'terrace:dataset_id'
        AND a.resource_id = i.content -> 'properties' ->> 'terrace:resource_id'
        AND r.version_id = i.content -> 'properties' ->> 'app:version_id')
ORDER BY i.collection, i.id;

-- name: orphan_stac_collections
-- Collections no served release publishes into, holding no item that is not itself an orphan.
SELECT c.id FROM pgstac.collections c
WHERE (%(collection_id)s::text IS NULL OR c.id = %(collection_id)s)
  AND NOT EXISTS (
    SELECT 1 FROM app.asset_releases r
    WHERE r.approval_state = 'approved' AND r.is_served AND r.outputs -> %(key)s ->> 'collection_id' = c.id)
  AND NOT EXISTS (
    SELECT 1 FROM pgstac.items i JOIN app.assets a
        ON a.dataset_id = i.content -> 'properties' ->> 'terrace:dataset_id'
       AND a.resource_id = i.content -> 'properties' ->> 'terrace:resource_id'
    JOIN app.asset_releases r ON r.asset_id = a.asset_id AND r.version_id = i.content -> 'properties' ->> 'app:version_id'
    WHERE i.collection = c.id AND r.approval_state = 'approved' AND r.is_served)
ORDER BY c.id;

-- name: named_blobs
-- Every object a row names: COGs and thumbnails (cog_metadata), and live releases' recorded blobs.
SELECT DISTINCT ON (container, path) container, path, release_id FROM (
    SELECT m.container, m.path, m.release_id FROM app.cog_metadata m
    UNION ALL
    SELECT m.container, m.thumbnail_path, m.release_id FROM app.cog_metadata m WHERE m.thumbnail_path IS NOT NULL
    UNION ALL
    SELECT b ->> 'container', b ->> 'path', r.release_id
    FROM app.asset_releases r CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(r.outputs -> 'blobs') = 'array' THEN r.outputs -> 'blobs' ELSE '[]'::jsonb END) b
    WHERE r.unpublished_at IS NULL
    UNION ALL
    SELECT r.outputs -> 'repair_report' ->> 'container', r.outputs -> 'repair_report' ->> 'path', r.release_id
    FROM app.asset_releases r
    WHERE r.unpublished_at IS NULL AND jsonb_typeof(r.outputs -> 'repair_report') = 'object'
) named
ORDER BY container, path, release_id;

-- name: cog_paths_among
-- Which of `paths` a cog_metadata row names (as the COG or its thumbnail).
SELECT path FROM app.cog_metadata WHERE container = %(container)s AND path = ANY(%(paths)s)
UNION
SELECT thumbnail_path FROM app.cog_metadata WHERE container = %(container)s AND thumbnail_path = ANY(%(paths)s);

-- name: output_slots
-- The (dataset, resource, ordinal, revision) whose output folders are in use: live releases at
-- their current revision, and jobs still running (their folders hold work in progress).
WITH wanted AS (SELECT * FROM unnest(%(datasets)s::text[], %(resources)s::text[]) AS w(dataset_id, resource_id))
SELECT a.dataset_id, a.resource_id, r.version_ordinal, r.revision
FROM app.asset_releases r JOIN app.assets a USING (asset_id) JOIN wanted w USING (dataset_id, resource_id)
WHERE r.unpublished_at IS NULL
UNION
SELECT j.parameters ->> 'dataset_id', j.parameters ->> 'resource_id',
       (j.parameters ->> 'version_ordinal')::int, coalesce((j.parameters ->> 'revision')::int, 1)
FROM app.jobs j JOIN wanted w
    ON w.dataset_id = j.parameters ->> 'dataset_id' AND w.resource_id = j.parameters ->> 'resource_id'
WHERE j.status IN ('queued', 'running') AND j.parameters ? 'version_ordinal';

-- name: releases_without_outputs
-- Processed, live releases that record no output at all: no table for a vector, no COG for a raster.
SELECT r.release_id, a.data_type::text AS data_type, a.dataset_id, a.resource_id, r.version_ordinal
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.unpublished_at IS NULL AND r.processing_status = 'completed'
  AND r.approval_state IN ('pending_review', 'approved')
  AND CASE WHEN a.data_type = 'vector'
           THEN NOT EXISTS (SELECT 1 FROM app.release_tables t WHERE t.release_id = r.release_id)
           ELSE NOT EXISTS (SELECT 1 FROM app.cog_metadata m WHERE m.release_id = r.release_id) END
ORDER BY r.release_id;

-- name: stuck_jobs
SELECT job_id, job_type, status::text AS status, timeout_seconds,
       extract(epoch FROM now() - coalesce(started_at, created_at))::bigint AS age_seconds
FROM app.jobs
WHERE status IN ('queued', 'running') AND job_id <> %(job_id)s
  AND coalesce(started_at, created_at) + make_interval(secs => timeout_seconds) < now()
ORDER BY created_at;

-- name: failed_cleanups
-- Failed or cancelled jobs whose cleanup failed and has not been repaired since.
SELECT DISTINCT ON (e.job_id) e.job_id, j.job_type, e.message, e.created_at
FROM app.job_events e JOIN app.jobs j USING (job_id)
WHERE e.kind = 'cleanup_failed' AND j.status IN ('failed', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM app.job_events later
                  WHERE later.job_id = e.job_id AND later.kind = 'cleanup_repaired' AND later.event_id > e.event_id)
ORDER BY e.job_id, e.event_id DESC;

-- name: outputs_missing
-- One finding per release whose tables or blobs this check found missing.
INSERT INTO app.catalog_findings (job_id, source, kind, object, release_id, detail, repair)
SELECT %(job_id)s, %(source)s, 'release_outputs_missing', release_id, release_id,
       'missing: ' || string_agg(object, ', ' ORDER BY object), %(repair)s
FROM app.catalog_findings
WHERE job_id = %(job_id)s AND kind IN ('missing_table', 'missing_blob') AND release_id IS NOT NULL
GROUP BY release_id
ON CONFLICT (job_id, kind, object) DO NOTHING;

-- name: count_findings
SELECT kind, count(*) AS n FROM app.catalog_findings WHERE job_id = %(job_id)s GROUP BY kind ORDER BY kind;

-- name: save_report
INSERT INTO app.catalog_reports (job_id, checked_at, counts, requested_by)
VALUES (%(job_id)s, now(), %(counts)s, %(requested_by)s)
ON CONFLICT (job_id) DO UPDATE SET checked_at = excluded.checked_at, counts = excluded.counts;

-- name: latest_report
SELECT job_id, checked_at, counts, requested_by FROM app.catalog_reports ORDER BY checked_at DESC LIMIT 1;

-- name: findings_of
SELECT kind, object, release_id, detail, repair FROM app.catalog_findings
WHERE job_id = %(job_id)s AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s))
ORDER BY kind, object
LIMIT %(limit)s;

-- name: served_releases
-- Served releases with STAC to publish; all of them, or those of the given ids or collections.
SELECT r.release_id FROM app.asset_releases r
WHERE r.approval_state = 'approved' AND r.is_served AND r.outputs ? 'stac'
  AND (%(all)s OR r.release_id = ANY(%(release_ids)s)
       OR coalesce(r.outputs -> %(key)s ->> 'collection_id', r.outputs -> 'stac' -> 'collection' ->> 'id')
          = ANY(%(collections)s))
ORDER BY r.release_id;

-- name: job_of_release
SELECT job_id FROM app.asset_releases WHERE release_id = %(release_id)s;

-- name: audit
INSERT INTO app.catalog_audit (job_id, actor, action, object, release_id, outcome, detail)
VALUES (%(job_id)s, %(actor)s, %(action)s, %(object)s, %(release_id)s, %(outcome)s, %(detail)s);

-- name: failed_job
SELECT job_id, job_type, parameters, status::text AS status FROM app.jobs
WHERE job_id = %(job_id)s AND status IN ('failed', 'cancelled');
