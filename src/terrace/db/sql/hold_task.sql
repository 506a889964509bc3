-- The fence of a handler's own writes, called in their transaction just before it commits: true
-- while attempt p_attempt of p_worker still holds the task, which then stays held until that
-- transaction ends (the janitor skips a locked task rather than requeue it under a commit). A
-- stale attempt, whose lease expired and whose task was requeued or claimed again, gets false.
CREATE OR REPLACE FUNCTION app.hold_task(p_task_id text, p_worker text, p_attempt integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM app.tasks
    WHERE task_id = p_task_id AND status = 'running' AND lease_owner = p_worker AND attempt = p_attempt
    FOR KEY SHARE;
    RETURN FOUND;
END;
$$;
