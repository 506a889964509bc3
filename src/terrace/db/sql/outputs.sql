-- name: release_at_ordinal
SELECT release_id, revision, approval_state::text AS approval_state
FROM app.asset_releases
WHERE asset_id = %(asset_id)s AND version_ordinal = %(version_ordinal)s;
