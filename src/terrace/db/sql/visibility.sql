-- Which releases, jobs and draft previews a caller may see; every query takes the caller's
-- levels, roles, drafts and actor (terrace.platform.visibility.Viewer.params).

-- name: release_visible
SELECT app.release_visible_to(%(release_id)s, %(levels)s, %(roles)s, %(drafts)s, %(actor)s) AS visible;

-- name: job_visible
-- A job that processes a release is seen with that release; other jobs by every reader.
SELECT parameters ->> 'release_id' IS NULL
       OR app.release_visible_to(parameters ->> 'release_id', %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
       AS visible
FROM app.jobs WHERE job_id = %(job_id)s;

-- name: draft_cog
-- The index-th COG (by part) the current job of a draft release wrote.
SELECT c.container, c.path
FROM app.asset_releases r
JOIN app.cog_metadata c ON c.release_id = r.release_id AND c.job_id = r.job_id
WHERE r.release_id = %(release_id)s AND r.approval_state = 'pending_review'
  AND app.release_visible_to(r.release_id, %(levels)s, %(roles)s, %(drafts)s, %(actor)s)
ORDER BY c.part
OFFSET %(index)s LIMIT 1;
