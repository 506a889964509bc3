-- Claims up to p_limit runnable tasks for p_worker under a lease; marks their jobs running.
CREATE OR REPLACE FUNCTION app.claim_tasks(p_worker text, p_limit integer, p_lease_seconds double precision)
RETURNS SETOF app.tasks
LANGUAGE plpgsql AS $$
DECLARE
    v_workers integer;
    v_ready integer;
    v_share integer;
BEGIN
    -- Fair share: with few ready tasks, each live worker takes its part instead of the first
    -- one awake taking them all (its tasks would then share one process and its GIL).
    SELECT count(*) INTO v_workers FROM app.workers
    WHERE stopped_at IS NULL AND last_seen_at > now() - interval '60 seconds';
    SELECT count(*) INTO v_ready FROM (
        SELECT 1 FROM app.tasks t
        WHERE t.status = 'queued' AND t.run_after <= clock_timestamp()
        LIMIT p_limit * GREATEST(v_workers, 1)
    ) ready;
    v_share := GREATEST(1, ceil(v_ready::numeric / GREATEST(v_workers, 1))::integer);
    RETURN QUERY
    WITH picked AS (
        SELECT t.task_id FROM app.tasks t
        WHERE t.status = 'queued' AND t.run_after <= clock_timestamp()
        ORDER BY t.run_after
        LIMIT LEAST(p_limit, v_share)
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE app.tasks t
        SET status = 'running', attempt = t.attempt + 1, lease_owner = p_worker,
            lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds),
            started_at = clock_timestamp()
        FROM picked WHERE t.task_id = picked.task_id
        RETURNING t.*
    ), started AS (
        UPDATE app.jobs j SET status = 'running', started_at = clock_timestamp()
        WHERE j.status = 'queued' AND j.job_id IN (SELECT c.job_id FROM claimed c)
        RETURNING j.job_id
    ), logged AS (
        -- The request id is given here so that the event trigger has nothing to look up.
        INSERT INTO app.job_events (job_id, task_id, stage, kind, data, http_request_id)
        SELECT c.job_id, c.task_id, c.stage, 'task_started',
               jsonb_build_object('worker', p_worker, 'attempt', c.attempt), j.http_request_id
        FROM claimed c JOIN app.jobs j ON j.job_id = c.job_id
        UNION ALL
        SELECT s.job_id, NULL, NULL, 'job_started', '{}'::jsonb, NULL FROM started s
    )
    SELECT * FROM claimed;
END;
$$;
