-- Clearance (SPEC §14): where a served release may go, changed by a reviewer after approval.

-- name: set_clearance
UPDATE app.asset_releases SET clearance_state = %(clearance_state)s::app.clearance_state
WHERE release_id = %(release_id)s;
