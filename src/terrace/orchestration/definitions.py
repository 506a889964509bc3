"""Declarative job definitions: a job type names its stages; each stage plans its own tasks.

This is the contract between CoreMachine and the pipelines (ingest, platform): a pipeline
declares a `JobType`; CoreMachine validates parameters at submit, asks each stage's planner for
that stage's tasks (given the job parameters and the previous stage's results, in task order),
runs every task's handler on some worker, and hands the results of the last stage to `finalize`.
Task inputs and results are pydantic models; they travel as JSON in `app.tasks` and are parsed
at the seams only: the worker parses a task's input, CoreMachine a finished stage's results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from adbc_driver_manager import dbapi as adbc
from adbc_driver_manager.dbapi import Connection as AdbcConnection
from pydantic import BaseModel, ConfigDict, JsonValue

from terrace.db.pool import Connection
from terrace.storage import Storage

Json = dict[str, JsonValue]  # a JSON object as stored: job parameters, task inputs and results
Result = Json  # a job's result, as `outcome` makes it and app.jobs keeps it

P = TypeVar("P", bound=BaseModel)  # a job type's parameters
T = TypeVar("T", bound=BaseModel)  # a stage's task input
R = TypeVar("R", bound=BaseModel)  # a stage's task result
M = TypeVar("M", bound=BaseModel)


class Contract(BaseModel):
    """A task's input or result: what one stage hands the next, refusing fields it does not know."""

    model_config = ConfigDict(extra="forbid")


class NoInput(Contract):
    """The input of a task that needs nothing but the job's parameters."""


class TaskContext(Protocol[P, T]):
    """What a handler gets: its parameters, resources, and ways to report progress."""

    job_id: str
    task_id: str
    job_type: str
    stage: int  # 1-based
    attempt: int  # 1 on the first run
    params: P  # the job's validated parameters
    task: T  # this task's input, as its stage's planner built it
    storage: Storage

    def connect(self, *, autocommit: bool = False) -> AbstractContextManager[Connection]:
        """A database connection of the task's own (dict rows), committed when the block succeeds;
        an unreachable database raises `Unavailable`."""

    def adbc(self) -> AbstractContextManager[adbc.Connection]:
        """An ADBC connection, for binary COPY of Arrow data; errors translated as by `connect`."""

    def fence(self, conn: Connection | AdbcConnection) -> None:
        """Hold this task in `conn`'s open transaction, or raise `LeaseLost` when this attempt's
        lease expired and the task was taken over. Call it just before committing writes that a
        stale attempt must not commit (appended rows); the retry then runs strictly after them."""

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0-100) of this task; visible in the job status."""

    def checkpoint(self, phase: str, data: BaseModel | None = None, conn: Connection | None = None) -> None:
        """Record that `phase` is done, with data a retry can resume from. Given `conn`, the record
        is written in that connection's transaction: it commits, or not, with the work it records."""

    def checkpoint_data(self, phase: str, model: type[M]) -> M | None:
        """The data saved by an earlier attempt's checkpoint of `phase`; None if not reached."""


Finalizer = Callable[[Any, list[Any]], BaseModel]  # (parameters, last stage's results) → job result
# Undoes a failed job's partial outputs (staging tables, blobs), in the transaction that fails it.
Cleanup = Callable[[Any, Any, Any, str], None]  # (connection, storage, validated parameters, job_id)


@dataclass(frozen=True)
class Stage(Generic[P, T, R]):
    """A stage: its planner makes `task` inputs, its handler turns each into a `result`."""

    name: str
    handler: Callable[[TaskContext[P, T]], R]
    plan: Callable[[P, list[Any]], list[T]]
    task: type[T]
    result: type[R]

    def results(self, stored: Sequence[Mapping[str, Any]]) -> list[R]:
        """The stage's task results, as stored in task order, parsed."""
        return [self.result.model_validate(result) for result in stored]


@dataclass(frozen=True)
class JobType:
    """A kind of job. `parameters` validates the submitted parameters (pydantic model)."""

    name: str
    parameters: type[BaseModel]
    stages: tuple[Stage[Any, Any, Any], ...]
    finalize: Finalizer | None = None
    on_failure: Cleanup | None = None
    max_attempts: int = 4
    timeout_seconds: int = 3600
    backoff_base_seconds: float = 30.0  # retry n waits min(base * 2**(n-1), max)
    backoff_max_seconds: float = 600.0

    def load(self, stored: Mapping[str, Any]) -> BaseModel:
        """A submitted job's stored parameters as its model; `_`-prefixed keys are notes, not
        parameters."""
        return self.parameters.model_validate({k: v for k, v in stored.items() if not k.startswith("_")})

    def outcome(self, params: BaseModel, results: list[Any]) -> Result:
        """The job's result, from the results of its last stage."""
        if self.finalize is None:
            return {"results": [result.model_dump(mode="json") for result in results]}
        return self.finalize(params, results).model_dump(mode="json")
