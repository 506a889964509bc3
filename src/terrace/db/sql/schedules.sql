-- Cron schedules (rows with a job type) and the last runs of periodic actions (rows without).

-- name: list
SELECT name, job_type, parameters, cron, enabled, last_run_at, next_run_at, last_job_id, last_error,
       updated_by, updated_at
FROM app.schedules WHERE job_type IS NOT NULL ORDER BY name;

-- name: get
SELECT name, job_type, parameters, cron, enabled, last_run_at, next_run_at, last_job_id, last_error,
       updated_by, updated_at
FROM app.schedules WHERE name = %(name)s AND job_type IS NOT NULL;

-- name: put
-- A changed cron or a re-enabled schedule runs next at `next_run_at`; a periodic row is never taken over.
INSERT INTO app.schedules AS s (name, job_type, parameters, cron, enabled, next_run_at, updated_by)
VALUES (%(name)s, %(job_type)s, %(parameters)s, %(cron)s, %(enabled)s, %(next_run_at)s, %(actor)s)
ON CONFLICT (name) DO UPDATE
SET job_type = excluded.job_type, parameters = excluded.parameters, cron = excluded.cron,
    enabled = excluded.enabled, next_run_at = excluded.next_run_at, updated_by = excluded.updated_by,
    last_error = NULL
WHERE s.job_type IS NOT NULL
RETURNING name;

-- name: add_default
INSERT INTO app.schedules (name, job_type, parameters, cron, enabled, next_run_at, updated_by)
VALUES (%(name)s, %(job_type)s, %(parameters)s, %(cron)s, true, %(next_run_at)s, 'default')
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: delete
DELETE FROM app.schedules WHERE name = %(name)s AND job_type IS NOT NULL RETURNING name;

-- name: claim_due
-- One due schedule, claimed by this transaction: a concurrent scheduler skips the row while it is
-- locked and, once this transaction has moved next_run_at on, no longer finds it due.
UPDATE app.schedules SET last_run_at = now()
WHERE name = (SELECT name FROM app.schedules
              WHERE enabled AND job_type IS NOT NULL AND next_run_at <= now()
              ORDER BY next_run_at LIMIT 1
              FOR UPDATE SKIP LOCKED)
RETURNING name, job_type, parameters, cron, now() AS claimed_at;

-- name: ran
UPDATE app.schedules SET next_run_at = %(next_run_at)s, last_job_id = %(job_id)s, last_error = %(error)s
WHERE name = %(name)s;

-- name: claim_periodic
-- The periodic action `name`, if its interval has passed since its last run; the conflicting
-- insert of a concurrent scheduler re-checks the condition once this one commits.
INSERT INTO app.schedules AS s (name, last_run_at) VALUES (%(name)s, now())
ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at
WHERE s.job_type IS NULL
  AND (s.last_run_at IS NULL OR s.last_run_at <= now() - make_interval(secs => %(every)s))
RETURNING name;
