-- name: insert_job
INSERT INTO app.jobs (job_id, job_type, parameters, stage_count, max_attempts, backoff_base_seconds,
    backoff_max_seconds, timeout_seconds, submitted_by, http_request_id)
VALUES (%(job_id)s, %(job_type)s, %(parameters)s, %(stage_count)s, %(max_attempts)s,
    %(backoff_base_seconds)s, %(backoff_max_seconds)s, %(timeout_seconds)s, %(submitted_by)s,
    %(http_request_id)s)
ON CONFLICT (job_id) DO NOTHING
RETURNING job_id;

-- name: job
SELECT * FROM app.jobs WHERE job_id = %(job_id)s;

-- name: lock_job
SELECT * FROM app.jobs WHERE job_id = %(job_id)s FOR UPDATE;

-- name: event
INSERT INTO app.job_events (job_id, task_id, stage, kind, message, duration_ms, data)
VALUES (%(job_id)s, %(task_id)s, %(stage)s, %(kind)s, %(message)s, %(duration_ms)s, %(data)s);

-- name: stage_results
SELECT result FROM app.tasks WHERE job_id = %(job_id)s AND stage = %(stage)s ORDER BY task_index;

-- name: start_stage
UPDATE app.jobs SET stage = %(stage)s, stage_tasks = %(count)s, stage_done = 0, stage_started_at = clock_timestamp()
WHERE job_id = %(job_id)s;

-- name: stage_completed_event
INSERT INTO app.job_events (job_id, stage, kind, duration_ms, data)
SELECT job_id, stage, 'stage_completed', (extract(epoch FROM clock_timestamp() - stage_started_at) * 1000)::bigint,
       jsonb_build_object('tasks', stage_tasks)
FROM app.jobs WHERE job_id = %(job_id)s;

-- name: queued_events
INSERT INTO app.job_events (job_id, task_id, stage, kind)
SELECT job_id, task_id, stage, 'task_queued' FROM app.tasks WHERE job_id = %(job_id)s AND stage = %(stage)s;

-- name: notify_tasks
SELECT pg_notify('terrace_tasks', '');

-- name: holds
SELECT app.hold_task(%(task_id)s, %(worker_id)s, %(attempt)s) AS held;

-- name: fail_task
SELECT app.fail_task(%(task_id)s, %(worker_id)s, %(attempt)s, %(error)s, %(max_attempts)s::integer) AS verdict;

-- name: finish_job
UPDATE app.jobs
SET status = %(status)s, result = %(result)s, error = %(error)s, finished_at = clock_timestamp(),
    hook_state = CASE WHEN %(has_hook)s THEN 'pending'::app.hook_state ELSE 'none'::app.hook_state END
WHERE job_id = %(job_id)s
RETURNING *;

-- name: hook_done
UPDATE app.jobs SET hook_state = 'done' WHERE job_id = %(job_id)s;

-- name: hook_failed
UPDATE app.jobs
SET hook_attempts = hook_attempts + 1,
    hook_next_at = clock_timestamp() + make_interval(secs => least(5 * power(2, hook_attempts), 600))
WHERE job_id = %(job_id)s;

-- name: reset_job
UPDATE app.jobs
SET status = 'queued', stage = 0, stage_tasks = 0, stage_done = 0, result = NULL, error = NULL,
    hook_state = 'none', hook_attempts = 0, hook_next_at = NULL, started_at = NULL, finished_at = NULL,
    stage_started_at = NULL, http_request_id = %(http_request_id)s
WHERE job_id = %(job_id)s;

-- name: delete_tasks
DELETE FROM app.tasks WHERE job_id = %(job_id)s;

-- name: cancel_job
UPDATE app.jobs SET status = 'cancelled', finished_at = clock_timestamp()
WHERE job_id = %(job_id)s AND status IN ('queued', 'running')
RETURNING job_id;

-- name: cancel_tasks
UPDATE app.tasks SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL
WHERE job_id = %(job_id)s AND status IN ('queued', 'running');

-- name: await_review
UPDATE app.jobs SET status = 'awaiting_approval' WHERE job_id = %(job_id)s AND status = 'completed';

-- name: conclude_review
UPDATE app.jobs SET status = 'completed' WHERE job_id = %(job_id)s AND status = 'awaiting_approval';

-- name: hook_pending
UPDATE app.jobs SET hook_state = 'pending' WHERE job_id = %(job_id)s;

-- name: jobs_of_tasks
SELECT job_id, job_type, parameters, http_request_id FROM app.jobs WHERE job_id = ANY(%(job_ids)s);

-- name: progress
UPDATE app.tasks SET progress = %(percent)s, progress_message = %(message)s
WHERE task_id = %(task_id)s AND status = 'running' AND attempt = %(attempt)s;

-- name: checkpoint
UPDATE app.tasks SET checkpoints = checkpoints || jsonb_build_object(%(phase)s::text, %(data)s::jsonb)
WHERE task_id = %(task_id)s AND status = 'running' AND lease_owner = %(worker_id)s AND attempt = %(attempt)s
RETURNING job_id, stage;


-- name: extend_leases
UPDATE app.tasks t SET lease_expires_at = clock_timestamp() + make_interval(secs => %(lease)s)
FROM unnest(%(ids)s::text[], %(attempts)s::integer[]) AS held(task_id, attempt)
WHERE t.task_id = held.task_id AND t.attempt = held.attempt AND t.lease_owner = %(worker_id)s
  AND t.status = 'running'
RETURNING t.task_id;

-- name: release_task
UPDATE app.tasks
SET status = 'queued', attempt = greatest(attempt - 1, 0), lease_owner = NULL, lease_expires_at = NULL,
    run_after = clock_timestamp()
WHERE task_id = %(task_id)s AND lease_owner = %(worker_id)s AND attempt = %(attempt)s AND status = 'running'
RETURNING job_id, stage;

-- name: next_run_after
SELECT extract(epoch FROM min(run_after) - clock_timestamp()) AS seconds
FROM app.tasks WHERE status = 'queued';

-- name: listen
LISTEN terrace_tasks;

-- name: expired_leases
SELECT task_id, lease_owner, attempt, job_id, stage FROM app.tasks
WHERE status = 'running' AND lease_expires_at < clock_timestamp();

-- name: take_expired
-- The janitor's hold on one expired lease; a task locked by a handler's commit is left for the
-- next sweep, and one whose worker renewed it meanwhile is left alone.
SELECT task_id FROM app.tasks
WHERE task_id = %(task_id)s AND attempt = %(attempt)s AND status = 'running'
  AND lease_expires_at < clock_timestamp()
FOR UPDATE SKIP LOCKED;

-- name: timed_out_jobs
SELECT job_id, timeout_seconds FROM app.jobs
WHERE status = 'running' AND started_at < clock_timestamp() - make_interval(secs => timeout_seconds);

-- name: pending_hooks
SELECT * FROM app.jobs
WHERE hook_state = 'pending' AND (hook_next_at IS NULL OR hook_next_at <= clock_timestamp())
LIMIT 100;

-- name: try_lead
SELECT pg_try_advisory_lock(%(key)s) AS leading;

-- name: stage_counts
SELECT stage,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       avg(progress) AS progress,
       max(progress_message) FILTER (WHERE status = 'running') AS message
FROM app.tasks WHERE job_id = %(job_id)s GROUP BY stage ORDER BY stage;

-- name: list_jobs
SELECT job_id, job_type, status::text AS status, stage, stage_count, created_at, started_at, finished_at,
       submitted_by, error ->> 'message' AS error
FROM app.jobs
WHERE (%(status)s::text IS NULL OR status::text = %(status)s)
  AND (%(job_type)s::text IS NULL OR job_type = %(job_type)s)
  -- A job that processes a release is listed with that release (terrace.platform.visibility).
  AND (parameters ->> 'release_id' IS NULL
       OR app.release_visible_to(parameters ->> 'release_id', %(levels)s, %(roles)s, %(drafts)s, %(actor)s))
ORDER BY created_at DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: job_events
SELECT event_id, task_id, stage, kind, message, duration_ms, data, created_at
FROM app.job_events WHERE job_id = %(job_id)s AND event_id > %(after)s
ORDER BY event_id LIMIT %(limit)s;

-- name: job_tasks
SELECT task_id, stage, task_index, status::text AS status, attempt, max_attempts, progress, progress_message,
       lease_owner, run_after, started_at, finished_at, result, error, checkpoints
FROM app.tasks
WHERE job_id = %(job_id)s AND (%(stage)s::int IS NULL OR stage = %(stage)s)
  AND (%(status)s::text IS NULL OR status::text = %(status)s)
ORDER BY stage, task_index LIMIT %(limit)s OFFSET %(offset)s;

-- name: last_success
SELECT kind, stage, task_id, created_at FROM app.job_events
WHERE job_id = %(job_id)s AND kind IN ('task_completed', 'stage_completed', 'task_checkpoint', 'job_created')
ORDER BY event_id DESC LIMIT 1;
