"""CoreMachine's tables: jobs, their tasks, and the timeline of events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import NOW, SqlFunction, Trigger, created_at, metadata, updated_at
from terrace.db.models.common import SET_UPDATED_AT

TIMESTAMP = pg.TIMESTAMP(timezone=True)
JOB_STATES = ("queued", "running", "awaiting_approval", "completed", "failed", "cancelled")
TASK_STATES = ("queued", "running", "completed", "failed", "cancelled")
HOOK_STATES = ("none", "pending", "done")

job_status = pg.ENUM(*JOB_STATES, name="job_status", schema="app", metadata=metadata)
task_status = pg.ENUM(*TASK_STATES, name="task_status", schema="app", metadata=metadata)
hook_state = pg.ENUM(*HOOK_STATES, name="hook_state", schema="app", metadata=metadata)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("job_type", sa.Text, nullable=False),
    sa.Column("status", job_status, nullable=False, server_default="queued"),
    sa.Column("parameters", pg.JSONB, nullable=False),
    sa.Column("stage", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("stage_count", sa.Integer, nullable=False),
    # Tasks of the current stage, and how many completed: the counter whose row lock makes
    # exactly one completion see the stage finished.
    sa.Column("stage_tasks", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("stage_done", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("stage_started_at", TIMESTAMP),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("backoff_base_seconds", sa.Float, nullable=False),
    sa.Column("backoff_max_seconds", sa.Float, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("result", pg.JSONB),
    sa.Column("error", pg.JSONB),
    sa.Column("hook_state", hook_state, nullable=False, server_default="none"),
    sa.Column("hook_attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("hook_next_at", TIMESTAMP),
    sa.Column("submitted_by", sa.Text),
    # The X-Request-ID of the HTTP request that submitted (or resubmitted) the job.
    sa.Column("http_request_id", sa.Text),
    created_at(),
    updated_at(),
    sa.Column("started_at", TIMESTAMP),
    sa.Column("finished_at", TIMESTAMP),
    sa.Index("ix_jobs_status_created", "status", "created_at"),
    sa.Index("ix_jobs_type_created", "job_type", "created_at"),
    sa.Index("ix_jobs_hook_pending", "hook_next_at", postgresql_where=sa.text("hook_state = 'pending'")),
    schema="app",
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("task_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("app.jobs.job_id", ondelete="CASCADE"), nullable=False),
    sa.Column("stage", sa.Integer, nullable=False),
    sa.Column("task_index", sa.Integer, nullable=False),
    sa.Column("status", task_status, nullable=False, server_default="queued"),
    sa.Column("parameters", pg.JSONB, nullable=False),
    sa.Column("result", pg.JSONB),
    sa.Column("error", pg.JSONB),
    sa.Column("attempt", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_after", TIMESTAMP, nullable=False, server_default=NOW),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", TIMESTAMP),
    sa.Column("progress", sa.Float, nullable=False, server_default=sa.text("0")),
    sa.Column("progress_message", sa.Text),
    sa.Column("checkpoints", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    created_at(),
    sa.Column("started_at", TIMESTAMP),
    sa.Column("finished_at", TIMESTAMP),
    sa.UniqueConstraint("job_id", "stage", "task_index"),
    sa.Index("ix_tasks_claimable", "run_after", postgresql_where=sa.text("status = 'queued'")),
    sa.Index("ix_tasks_leased", "lease_expires_at", postgresql_where=sa.text("status = 'running'")),
    schema="app",
)

job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column("event_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("app.jobs.job_id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", sa.Text),
    sa.Column("stage", sa.Integer),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("duration_ms", sa.BigInteger),
    sa.Column("data", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    # Copied from the job by a trigger, whichever code or SQL function writes the event.
    sa.Column("http_request_id", sa.Text),
    # The moment of the event, not of its transaction's start: the timeline shows real durations.
    sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.text("clock_timestamp()")),
    sa.Index("ix_job_events_job", "job_id", "event_id"),
    schema="app",
)

# Cron schedules that submit jobs (operators set them through the admin API), and the last runs
# of the scheduler's in-process periodic actions (rows without a job type).
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("job_type", sa.Text),
    sa.Column("parameters", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("cron", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("last_run_at", TIMESTAMP),
    # Claimed by moving it on: the one scheduler whose update finds it due runs it.
    sa.Column("next_run_at", TIMESTAMP),
    sa.Column("last_job_id", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("updated_by", sa.Text),
    created_at(),
    updated_at(),
    sa.Index("ix_schedules_due", "next_run_at", postgresql_where=sa.text("enabled AND job_type IS NOT NULL")),
    schema="app",
)

CLAIM_TASKS = SqlFunction("app", "claim_tasks", "text, integer, double precision", "claim_tasks.sql")
COMPLETE_TASKS = SqlFunction(
    "app", "complete_tasks", "text, text[], integer[], jsonb[]", "complete_tasks.sql"
)
FAIL_TASK = SqlFunction("app", "fail_task", "text, text, integer, jsonb, integer", "fail_task.sql")
HOLD_TASK = SqlFunction("app", "hold_task", "text, text, integer", "hold_task.sql")
EVENT_REQUEST_ID = SqlFunction("app", "job_event_request_id", "", "job_event_request_id.sql")
FUNCTIONS = (CLAIM_TASKS, COMPLETE_TASKS, FAIL_TASK, HOLD_TASK, EVENT_REQUEST_ID)
TRIGGERS = (
    Trigger("trg_job_events_request_id", job_events, EVENT_REQUEST_ID, "BEFORE INSERT"),
    Trigger("trg_jobs_updated_at", jobs, SET_UPDATED_AT, "BEFORE UPDATE"),
    Trigger("trg_schedules_updated_at", schedules, SET_UPDATED_AT, "BEFORE UPDATE"),
)
