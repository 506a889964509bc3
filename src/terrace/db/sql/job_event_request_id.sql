-- Stamps each job event with the request id of its job, so every event of a job carries it.
CREATE OR REPLACE FUNCTION app.job_event_request_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.http_request_id IS NULL THEN
        NEW.http_request_id := (SELECT http_request_id FROM app.jobs WHERE job_id = NEW.job_id);
    END IF;
    RETURN NEW;
END;
$$;
