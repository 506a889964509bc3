"""Demonstration job types for tests and benchmarks: hello_world, fail_test, phases_test.

They are not part of an installation's registry (`terrace.pipelines.default_registry`); tests and
benchmarks add them with `with_demos`."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from terrace.orchestration.definitions import JobType, Result, Stage, TaskContext
from terrace.orchestration.registry import JobRegistry


class HelloParams(BaseModel):
    n: int = Field(ge=1, le=100_000, description="How many greetings stage 1 sends.")


def greet(ctx: TaskContext) -> Result:
    return {"greeting": f"hello from task {ctx.params['i']}"}


def reply(ctx: TaskContext) -> Result:
    return {"reply": f"reply to '{ctx.params['greeting']}'"}


HELLO_WORLD = JobType(
    name="hello_world",
    parameters=HelloParams,
    stages=(
        Stage("greet", greet, lambda p, _: [{"i": i} for i in range(p.n)]),
        Stage("reply", reply, lambda _, results: [{"greeting": r["greeting"]} for r in results]),
    ),
    finalize=lambda p, results: {"greetings": p.n, "replies": len(results)},
)


class FailParams(BaseModel):
    fail_times: int = Field(default=1, ge=0, description="Attempts that fail before one succeeds.")
    always: bool = Field(default=False, description="Fail on every attempt.")


def flaky(ctx: TaskContext) -> Result:
    if ctx.params["always"] or ctx.attempt <= ctx.params["fail_times"]:
        raise RuntimeError(f"planned failure on attempt {ctx.attempt}")
    return {"succeeded_on_attempt": ctx.attempt}


FAIL_TEST = JobType(
    name="fail_test",
    parameters=FailParams,
    stages=(
        Stage("warm_up", lambda ctx: {"ok": True}, lambda p, _: [{}]),
        Stage("flaky", flaky, lambda p, _: [p.model_dump()]),
    ),
    max_attempts=3,
    backoff_base_seconds=0.2,
    backoff_max_seconds=1.0,
)


class PhasesParams(BaseModel):
    phases: int = Field(default=4, ge=1, le=100)
    seconds_per_phase: float = Field(default=0.5, ge=0, le=60)


def phased(ctx: TaskContext) -> Result:
    """Works through phases, checkpointing each; a retry resumes after the last one saved."""
    ran = []
    for phase in range(1, ctx.params["phases"] + 1):
        if ctx.checkpoint_data(f"phase-{phase}") is not None:
            continue
        time.sleep(ctx.params["seconds_per_phase"])
        ctx.checkpoint(f"phase-{phase}", {"attempt": ctx.attempt})
        ctx.progress(100 * phase / ctx.params["phases"], f"phase {phase} done")
        ran.append(phase)
    return {"ran_this_attempt": ran, "attempt": ctx.attempt}


PHASES_TEST = JobType(
    name="phases_test",
    parameters=PhasesParams,
    stages=(Stage("phases", phased, lambda p, _: [p.model_dump()]),),
    backoff_base_seconds=0.2,
    backoff_max_seconds=1.0,
)


def with_demos(registry: JobRegistry) -> JobRegistry:
    """`registry` with the demonstration job types added."""
    for job_type in (HELLO_WORLD, FAIL_TEST, PHASES_TEST):
        registry.register(job_type)
    return registry
