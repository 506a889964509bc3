"""Demonstration job types for tests and benchmarks: hello_world, fail_test, phases_test.

They are not part of an installation's registry (`terrace.pipelines.default_registry`); tests and
benchmarks add them with `with_demos`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, NoReturn

from psycopg import sql
from pydantic import BaseModel, Field

from terrace.errors import InvalidInput
from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage, TaskContext
from terrace.orchestration.registry import JobRegistry


class HelloParams(BaseModel):
    n: int = Field(ge=1, le=100_000, description="How many greetings stage 1 sends.")


class Greet(Contract):
    i: int


class Greeting(Contract):
    greeting: str


class Reply(Contract):
    reply: str


class Greetings(Contract):
    greetings: int
    replies: int


def greet(ctx: TaskContext[HelloParams, Greet]) -> Greeting:
    return Greeting(greeting=f"hello from task {ctx.task.i}")


def reply(ctx: TaskContext[HelloParams, Greeting]) -> Reply:
    return Reply(reply=f"reply to '{ctx.task.greeting}'")


HELLO_WORLD = JobType(
    name="hello_world",
    parameters=HelloParams,
    stages=(
        Stage("greet", greet, lambda p, _: [Greet(i=i) for i in range(p.n)], Greet, Greeting),
        Stage("reply", reply, lambda _, results: results, Greeting, Reply),
    ),
    finalize=lambda p, results: Greetings(greetings=p.n, replies=len(results)),
)


class FailParams(BaseModel):
    fail_times: int = Field(default=1, ge=0, description="Attempts that fail before one succeeds.")
    always: bool = Field(default=False, description="Fail on every attempt.")
    error: Literal["internal", "transient", "input"] = Field(
        default="internal", description="How the failing attempts fail."
    )


class WarmedUp(Contract):
    ok: bool


class Succeeded(Contract):
    succeeded_on_attempt: int


def bug(ctx: TaskContext[Any, Any]) -> NoReturn:
    """Fails as a bug would, with library text that holds a server path and a connection string."""
    raise RuntimeError(
        f"planned failure on attempt {ctx.attempt}: cannot read {ctx.storage.root_url}/bronze/planned.tif "
        "through postgresql://terrace_app:hunter2@db.internal:5432/terrace"
    )


def cut_connection(ctx: TaskContext[Any, Any]) -> NoReturn:
    """The server terminates the task's database connection, as a failover or restart does."""
    with ctx.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("SELECT pg_terminate_backend(pg_backend_pid())"))
    raise AssertionError("the server did not terminate the connection")


def bad_value(ctx: TaskContext[Any, Any]) -> NoReturn:
    raise InvalidInput(
        "planned.csv, feature 7: column 'depth' holds 'deep', which is not a number.",
        "Correct the value in column 'depth' (or leave it empty) and submit the file again.",
    )


FAILURES: Mapping[str, Callable[[TaskContext[Any, Any]], NoReturn]] = {
    "internal": bug,
    "transient": cut_connection,
    "input": bad_value,
}


def flaky(ctx: TaskContext[FailParams, FailParams]) -> Succeeded:
    if ctx.task.always or ctx.attempt <= ctx.task.fail_times:
        FAILURES[ctx.task.error](ctx)
    return Succeeded(succeeded_on_attempt=ctx.attempt)


FAIL_TEST = JobType(
    name="fail_test",
    parameters=FailParams,
    stages=(
        Stage("warm_up", lambda ctx: WarmedUp(ok=True), lambda p, _: [NoInput()], NoInput, WarmedUp),
        Stage("flaky", flaky, lambda p, _: [p], FailParams, Succeeded),
    ),
    max_attempts=3,
    backoff_base_seconds=0.2,
    backoff_max_seconds=1.0,
)


class PhasesParams(BaseModel):
    phases: int = Field(default=4, ge=1, le=100)
    seconds_per_phase: float = Field(default=0.5, ge=0, le=60)


class PhaseDone(Contract):
    attempt: int


class Phased(Contract):
    ran_this_attempt: list[int]
    attempt: int


def phased(ctx: TaskContext[PhasesParams, PhasesParams]) -> Phased:
    """Works through phases, checkpointing each; a retry resumes after the last one saved."""
    ran = []
    for phase in range(1, ctx.task.phases + 1):
        if ctx.checkpoint_data(f"phase-{phase}", PhaseDone) is not None:
            continue
        time.sleep(ctx.task.seconds_per_phase)
        ctx.checkpoint(f"phase-{phase}", PhaseDone(attempt=ctx.attempt))
        ctx.progress(100 * phase / ctx.task.phases, f"phase {phase} done")
        ran.append(phase)
    return Phased(ran_this_attempt=ran, attempt=ctx.attempt)


PHASES_TEST = JobType(
    name="phases_test",
    parameters=PhasesParams,
    stages=(Stage("phases", phased, lambda p, _: [p], PhasesParams, Phased),),
    backoff_base_seconds=0.2,
    backoff_max_seconds=1.0,
)


def with_demos(registry: JobRegistry) -> JobRegistry:
    """`registry` with the demonstration job types added."""
    for job_type in (HELLO_WORLD, FAIL_TEST, PHASES_TEST):
        registry.register(job_type)
    return registry
