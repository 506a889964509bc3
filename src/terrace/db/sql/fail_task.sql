-- Records a task failure: the task is requeued with exponential backoff
-- (min(base * 2^(attempt-1), max)) while it has made fewer attempts than both its job type's limit
-- and p_max_attempts, the limit its kind of error allows (NULL: none of its own); otherwise the
-- task and its job fail. Returns 'retry', 'failed', or 'lost' when p_worker no longer holds the
-- task under attempt p_attempt (its lease expired and the task was requeued or claimed again):
-- such a failure is fenced off and changes nothing.
DROP FUNCTION IF EXISTS app.fail_task(text, text, jsonb, boolean);  -- the forms it replaces
DROP FUNCTION IF EXISTS app.fail_task(text, text, jsonb, integer);
CREATE OR REPLACE FUNCTION app.fail_task(
    p_task_id text, p_worker text, p_attempt integer, p_error jsonb, p_max_attempts integer
)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t app.tasks;
    j app.jobs;
    delay double precision;
BEGIN
    SELECT * INTO t FROM app.tasks
    WHERE task_id = p_task_id AND status = 'running' AND lease_owner = p_worker AND attempt = p_attempt
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'lost';
    END IF;
    SELECT * INTO j FROM app.jobs WHERE job_id = t.job_id FOR UPDATE;
    IF t.attempt < least(t.max_attempts, p_max_attempts) AND j.status = 'running' THEN
        delay := least(j.backoff_base_seconds * power(2, t.attempt - 1), j.backoff_max_seconds);
        UPDATE app.tasks
        SET status = 'queued', error = p_error, lease_owner = NULL, lease_expires_at = NULL,
            run_after = clock_timestamp() + make_interval(secs => delay)
        WHERE task_id = p_task_id;
        INSERT INTO app.job_events (job_id, task_id, stage, kind, message, data)
        VALUES (t.job_id, p_task_id, t.stage, 'task_retry', p_error ->> 'message',
                jsonb_build_object('attempt', t.attempt, 'retry_in_seconds', delay));
        RETURN 'retry';
    END IF;
    UPDATE app.tasks
    SET status = 'failed', error = p_error, finished_at = clock_timestamp(), lease_owner = NULL,
        lease_expires_at = NULL
    WHERE task_id = p_task_id;
    INSERT INTO app.job_events (job_id, task_id, stage, kind, message, data)
    VALUES (t.job_id, p_task_id, t.stage, 'task_failed', p_error ->> 'message',
            jsonb_build_object('attempt', t.attempt));
    IF j.status IN ('queued', 'running') THEN
        UPDATE app.jobs
        SET status = 'failed', finished_at = clock_timestamp(),
            error = p_error || jsonb_build_object('task_id', p_task_id, 'stage', t.stage, 'attempts', t.attempt)
        WHERE job_id = j.job_id;
        UPDATE app.tasks SET status = 'cancelled' WHERE job_id = j.job_id AND status = 'queued';
        INSERT INTO app.job_events (job_id, stage, kind, message)
        VALUES (j.job_id, t.stage, 'job_failed', p_error ->> 'message');
    END IF;
    RETURN 'failed';
END;
$$;
