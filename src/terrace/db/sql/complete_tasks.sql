-- Completes a batch of p_worker's tasks and counts them on their jobs. The counter update takes
-- the job row's lock, so of all workers completing one stage at once exactly one gets
-- stage_finished = true; it plans the next stage in the same transaction.
--
-- Fencing: a completion counts only while the task still runs under the lease it was claimed
-- with (the same worker and attempt). One from a worker whose lease expired and whose task was
-- requeued or claimed again is discarded and logged as `task_fenced`; a repeat of a completion
-- already recorded is a no-op. One row per input task: `fenced`, and `stage_finished` on one
-- task of each stage it finished.
DROP FUNCTION IF EXISTS app.complete_tasks(text, text[], jsonb[]);  -- the unfenced form it replaces
CREATE OR REPLACE FUNCTION app.complete_tasks(
    p_worker text, p_task_ids text[], p_attempts integer[], p_results jsonb[]
)
RETURNS TABLE (task_id text, job_id text, stage integer, fenced boolean, stage_finished boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH input AS (
        SELECT i.task_id, i.attempt, i.result
        FROM unnest(p_task_ids, p_attempts, p_results) AS i(task_id, attempt, result)
    ), done AS (
        UPDATE app.tasks t
        SET status = 'completed', result = input.result, finished_at = clock_timestamp(), progress = 100,
            lease_owner = NULL, lease_expires_at = NULL
        FROM input
        WHERE t.task_id = input.task_id AND t.status = 'running' AND t.lease_owner = p_worker
          AND t.attempt = input.attempt
        RETURNING t.job_id, t.stage, t.task_id, t.started_at
    ), stale AS (
        SELECT t.job_id, t.task_id, t.stage, input.attempt, t.attempt AS current_attempt
        FROM input JOIN app.tasks t ON t.task_id = input.task_id
        WHERE input.task_id NOT IN (SELECT d.task_id FROM done d)
          AND NOT (t.status = 'completed' AND t.attempt = input.attempt)
    ), logged AS (
        -- The request id is given here so that the event trigger has nothing to look up.
        INSERT INTO app.job_events (job_id, task_id, stage, kind, duration_ms, http_request_id)
        SELECT d.job_id, d.task_id, d.stage, 'task_completed',
               (extract(epoch FROM clock_timestamp() - d.started_at) * 1000)::bigint, j.http_request_id
        FROM done d JOIN app.jobs j ON j.job_id = d.job_id
    ), fenced_logged AS (
        INSERT INTO app.job_events (job_id, task_id, stage, kind, message, data)
        SELECT s.job_id, s.task_id, s.stage, 'task_fenced',
               'The result of a worker that no longer held this task was discarded.',
               jsonb_build_object('worker', p_worker, 'attempt', s.attempt, 'current_attempt', s.current_attempt)
        FROM stale s
    ), counted AS (
        SELECT d.job_id, d.stage, count(*)::integer AS n, min(d.task_id) AS first_task
        FROM done d GROUP BY d.job_id, d.stage
    ), advanced AS (
        UPDATE app.jobs j SET stage_done = j.stage_done + c.n
        FROM counted c
        WHERE j.job_id = c.job_id AND j.stage = c.stage AND j.status = 'running'
        RETURNING j.job_id, j.stage, c.first_task, j.stage_done >= j.stage_tasks AS finished
    )
    SELECT d.task_id, d.job_id, d.stage, false,
           coalesce(a.finished AND a.first_task = d.task_id, false)
    FROM done d LEFT JOIN advanced a ON a.job_id = d.job_id AND a.stage = d.stage
    UNION ALL
    SELECT s.task_id, s.job_id, s.stage, true, false FROM stale s;
END;
$$;
