-- name: release_by_ref
-- A release named by its release_id, a request_id, or a job_id.
SELECT r.*, a.dataset_id, a.resource_id, a.data_type, a.platform_id
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.release_id = coalesce(
    (SELECT release_id FROM app.asset_releases WHERE release_id = %(ref)s),
    (SELECT release_id FROM app.api_requests WHERE request_id = %(ref)s OR job_id = %(ref)s
     ORDER BY created_at DESC LIMIT 1));

-- name: lock_asset
SELECT asset_id FROM app.assets WHERE asset_id = %(asset_id)s FOR UPDATE;

-- name: release_tables
SELECT table_name, schema_name, geometry_type, feature_count, table_role::text AS table_role, table_suffix
FROM app.release_tables WHERE release_id = %(release_id)s
ORDER BY table_role = 'view', table_suffix, table_name;

-- name: rename_release_table
UPDATE app.release_tables SET schema_name = %(schema_to)s, table_name = %(name_to)s
WHERE release_id = %(release_id)s AND table_name = %(name_from)s;

-- name: version_taken
SELECT release_id FROM app.asset_releases
WHERE asset_id = %(asset_id)s AND version_id = %(version_id)s AND release_id <> %(release_id)s;

-- The approval transitions: written only by terrace.catalog.states.apply_transition, which passes
-- the target `state` from its transition table.

-- name: transition_approve
UPDATE app.asset_releases
SET approval_state = %(state)s::app.approval_state, version_id = %(version_id)s, is_served = true, reviewer = %(actor)s,
    reviewed_at = now(), clearance_state = %(clearance_state)s, approval_notes = %(reason)s
WHERE release_id = %(release_id)s;

-- name: transition_reject
UPDATE app.asset_releases
SET approval_state = %(state)s::app.approval_state, reviewer = %(actor)s, reviewed_at = now(), rejection_reason = %(reason)s
WHERE release_id = %(release_id)s;

-- name: transition_revoke
UPDATE app.asset_releases
SET approval_state = %(state)s::app.approval_state, is_served = false, revoked_at = now(), revoked_by = %(actor)s,
    revocation_reason = %(reason)s
WHERE release_id = %(release_id)s;

-- name: mark_unpublished
UPDATE app.asset_releases SET unpublished_at = now(), is_served = false WHERE release_id = %(release_id)s;

-- name: delete_release_tables
DELETE FROM app.release_tables WHERE release_id = %(release_id)s;

-- name: latest_served
SELECT r.release_id, r.version_id
FROM app.asset_releases r
WHERE r.asset_id = %(asset_id)s AND r.approval_state = 'approved' AND r.is_served
ORDER BY r.version_ordinal DESC LIMIT 1;

-- name: audit
INSERT INTO app.approval_audit (release_id, action, actor, reason, details)
VALUES (%(release_id)s, %(action)s, %(actor)s, %(reason)s, %(details)s);

-- name: relation_kind
SELECT c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s;

-- name: move_catalog_row
UPDATE geo.table_catalog SET schema_name = %(schema_to)s, table_name = %(name_to)s
WHERE schema_name = %(schema_from)s AND table_name = %(name_from)s;

-- name: delete_catalog_row
DELETE FROM geo.table_catalog WHERE schema_name = %(schema)s AND table_name = %(name)s;

-- name: latest_aliases
SELECT table_name FROM geo.table_catalog
WHERE schema_name = 'geo' AND properties ->> 'latest_alias_of_asset' = %(asset_id)s;

-- name: add_latest_alias_row
INSERT INTO geo.table_catalog (schema_name, table_name, title, description, bbox, feature_count,
    geometry_type, srid, table_group, stac_item_id, stac_collection_id, keywords, access_level, granted_roles,
    properties)
SELECT 'geo', %(alias)s, title, description, bbox, feature_count, geometry_type, srid, table_group,
    stac_item_id, stac_collection_id, keywords, access_level, granted_roles,
    properties || jsonb_build_object('latest_alias_of_asset', %(asset_id)s::text, 'alias_of', %(source)s::text)
FROM geo.table_catalog WHERE schema_name = 'geo' AND table_name = %(source)s;

-- name: upsert_asset
INSERT INTO app.assets (asset_id, platform_id, dataset_id, resource_id, data_type)
VALUES (%(asset_id)s, %(platform_id)s, %(dataset_id)s, %(resource_id)s, %(data_type)s)
ON CONFLICT (asset_id) DO NOTHING;

-- name: asset_data_type
SELECT data_type::text AS data_type FROM app.assets WHERE asset_id = %(asset_id)s;

-- name: busy_draft
SELECT release_id FROM app.asset_releases
WHERE asset_id = %(asset_id)s AND release_id <> %(release_id)s
  AND processing_status IN ('pending', 'processing') AND unpublished_at IS NULL
LIMIT 1;

-- name: next_ordinal
SELECT coalesce(max(version_ordinal), 0) + 1 AS ordinal FROM app.asset_releases WHERE asset_id = %(asset_id)s;

-- name: insert_release
INSERT INTO app.asset_releases (release_id, asset_id, submission_key, suggested_version_id, version_ordinal,
    previous_release_id, title, description, access_level, granted_roles, source, processing_options)
VALUES (%(release_id)s, %(asset_id)s, %(submission_key)s, %(suggested_version_id)s, %(version_ordinal)s,
    (SELECT release_id FROM app.asset_releases WHERE asset_id = %(asset_id)s
     ORDER BY version_ordinal DESC LIMIT 1),
    %(title)s, %(description)s, %(access_level)s, %(granted_roles)s, %(source)s, %(processing_options)s);

-- name: transition_resubmit
-- A new revision of the release: processed again, reviewed again.
UPDATE app.asset_releases
SET revision = revision + 1, processing_status = 'pending', processing_started_at = NULL,
    processing_completed_at = NULL, last_error = NULL, warnings = '[]'::jsonb, outputs = '{}'::jsonb,
    approval_state = %(state)s::app.approval_state, reviewer = NULL, reviewed_at = NULL, rejection_reason = NULL,
    title = %(title)s, description = %(description)s, access_level = %(access_level)s,
    granted_roles = %(granted_roles)s, source = %(source)s, processing_options = %(processing_options)s, unpublished_at = NULL
WHERE release_id = %(release_id)s;

-- name: insert_request
INSERT INTO app.api_requests (request_id, release_id, revision, job_id, submitted_by, payload, http_request_id)
VALUES (%(request_id)s, %(release_id)s, %(revision)s, %(job_id)s, %(submitted_by)s, %(payload)s,
    %(http_request_id)s)
ON CONFLICT (request_id) DO NOTHING;

-- name: request_of_release
SELECT request_id, job_id FROM app.api_requests
WHERE release_id = %(release_id)s AND revision = %(revision)s;

-- name: asset_by_name
-- Counted over the releases the caller may see; an asset with none is not shown.
SELECT a.asset_id, a.dataset_id, a.resource_id, a.data_type::text AS data_type, a.created_at,
       count(r.release_id) AS release_count,
       count(r.release_id) FILTER (WHERE r.approval_state = 'approved' AND r.is_served) AS served_count
FROM app.assets a JOIN app.asset_releases r USING (asset_id)
WHERE a.dataset_id = %(dataset_id)s AND a.resource_id = %(resource_id)s
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
GROUP BY a.asset_id;

-- name: releases_of_asset
-- filter: 'versions' (have a version id), 'drafts' (none yet), or 'all'
SELECT r.*, a.dataset_id, a.resource_id, a.data_type, a.platform_id
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.asset_id = %(asset_id)s
  AND (%(filter)s = 'all'
       OR (%(filter)s = 'versions' AND r.version_id IS NOT NULL)
       OR (%(filter)s = 'drafts' AND r.version_id IS NULL AND r.unpublished_at IS NULL))
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
ORDER BY r.version_ordinal;

-- name: release_by_version
SELECT r.*, a.dataset_id, a.resource_id, a.data_type, a.platform_id
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE r.asset_id = %(asset_id)s AND r.version_id = %(version_id)s
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s);

-- name: approvals
SELECT r.*, a.dataset_id, a.resource_id, a.data_type, a.platform_id
FROM app.asset_releases r JOIN app.assets a USING (asset_id)
WHERE (%(state)s::text IS NULL OR r.approval_state::text = %(state)s)
  AND (%(dataset_id)s::text IS NULL OR a.dataset_id = %(dataset_id)s)
  AND r.unpublished_at IS NULL
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
ORDER BY r.updated_at DESC
LIMIT %(limit)s;

-- name: audit_of_release
SELECT action::text AS action, actor, reason, details, created_at
FROM app.approval_audit WHERE release_id = %(release_id)s ORDER BY event_id;

-- name: request_by_ref
-- The request named by its id or job id; else the newest request of the release.
SELECT request_id, release_id, revision, job_id, submitted_by, created_at
FROM app.api_requests
WHERE request_id = %(ref)s OR job_id = %(ref)s OR release_id = %(release_id)s
ORDER BY (request_id = %(ref)s OR job_id = %(ref)s) DESC, created_at DESC
LIMIT 1;

-- name: start_processing
UPDATE app.asset_releases
SET job_id = %(job_id)s, processing_status = 'processing', processing_started_at = clock_timestamp()
WHERE release_id = %(release_id)s;

-- name: release_of_job
SELECT release_id FROM app.asset_releases WHERE job_id = %(job_id)s FOR UPDATE;

-- name: add_release_table
INSERT INTO app.release_tables (release_id, table_name, schema_name, geometry_type, feature_count,
    table_role, table_suffix)
VALUES (%(release_id)s, %(table_name)s, %(schema_name)s, %(geometry_type)s, %(feature_count)s,
    %(table_role)s, %(table_suffix)s);

-- name: processing_completed
UPDATE app.asset_releases
SET processing_status = 'completed', processing_completed_at = clock_timestamp(), warnings = %(warnings)s,
    outputs = %(outputs)s, last_error = NULL
WHERE release_id = %(release_id)s;

-- name: processing_failed
UPDATE app.asset_releases
SET processing_status = 'failed', processing_completed_at = clock_timestamp(), last_error = %(error)s
WHERE release_id = %(release_id)s;

-- name: grant_release_tables
-- The release's grants on the catalog rows of its tables (read by the serving and preview rule).
UPDATE geo.table_catalog c SET granted_roles = r.granted_roles
FROM app.asset_releases r JOIN app.release_tables t USING (release_id)
WHERE r.release_id = %(release_id)s AND c.schema_name = t.schema_name AND c.table_name = t.table_name;

-- name: set_output
UPDATE app.asset_releases SET outputs = outputs || jsonb_build_object(%(key)s::text, %(value)s::jsonb)
WHERE release_id = %(release_id)s;

-- name: drop_output
UPDATE app.asset_releases SET outputs = outputs - %(key)s::text WHERE release_id = %(release_id)s;

-- name: delete_cogs_of_release
DELETE FROM app.cog_metadata WHERE release_id = %(release_id)s;
