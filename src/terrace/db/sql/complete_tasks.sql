-- Completes a batch of p_worker's tasks and counts them on their jobs. The counter update takes
-- the job row's lock, so of all workers completing one stage at once exactly one gets
-- stage_finished = true; it plans the next stage in the same transaction.
CREATE OR REPLACE FUNCTION app.complete_tasks(p_worker text, p_task_ids text[], p_results jsonb[])
RETURNS TABLE (job_id text, stage integer, stage_finished boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH input AS (
        SELECT i.task_id, i.result FROM unnest(p_task_ids, p_results) AS i(task_id, result)
    ), done AS (
        UPDATE app.tasks t
        SET status = 'completed', result = input.result, finished_at = clock_timestamp(), progress = 100,
            lease_owner = NULL, lease_expires_at = NULL
        FROM input
        WHERE t.task_id = input.task_id AND t.status = 'running' AND t.lease_owner = p_worker
        RETURNING t.job_id, t.stage, t.task_id, t.started_at
    ), logged AS (
        INSERT INTO app.job_events (job_id, task_id, stage, kind, duration_ms)
        SELECT d.job_id, d.task_id, d.stage, 'task_completed',
               (extract(epoch FROM clock_timestamp() - d.started_at) * 1000)::bigint
        FROM done d
    ), counted AS (
        SELECT d.job_id, d.stage, count(*)::integer AS n FROM done d GROUP BY d.job_id, d.stage
    )
    UPDATE app.jobs j SET stage_done = j.stage_done + c.n
    FROM counted c
    WHERE j.job_id = c.job_id AND j.stage = c.stage AND j.status = 'running'
    RETURNING j.job_id, j.stage, j.stage_done >= j.stage_tasks;
END;
$$;
