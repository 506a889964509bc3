"""Declarative job definitions: a job type names its stages; each stage plans its own tasks.

This is the contract between CoreMachine and the pipelines (ingest, platform): a pipeline
declares a `JobType`; CoreMachine validates parameters at submit, asks each stage's planner for
that stage's tasks (given the job parameters and the previous stage's results, in task order),
runs every task's handler on some worker, and hands the results of the last stage to `finalize`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from terrace.storage import Storage

Result = dict[str, Any]


class TaskContext(Protocol):
    """What a handler gets: its parameters, resources, and ways to report progress."""

    job_id: str
    task_id: str
    job_type: str
    stage: int  # 1-based
    attempt: int  # 1 on the first run
    params: dict[str, Any]  # this task's parameters, as its planner built them
    job_params: dict[str, Any]  # the validated job parameters
    database_url: str
    storage: Storage

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0-100) of this task; visible in the job status."""

    def checkpoint(self, phase: str, data: Result | None = None, conn: Any = None) -> None:
        """Record that `phase` is done, with data a retry can resume from. Given `conn`, the record
        is written in that connection's transaction: it commits, or not, with the work it records."""

    def checkpoint_data(self, phase: str) -> Result | None:
        """The data saved by an earlier attempt's checkpoint of `phase`; None if not reached."""


Handler = Callable[[TaskContext], Result]
Planner = Callable[[Any, list[Result]], list[dict[str, Any]]]
Finalizer = Callable[[Any, list[Result]], Result]
# Undoes a failed job's partial outputs (staging tables, blobs), in the transaction that fails it.
Cleanup = Callable[[Any, Any, Any, str], None]  # (connection, storage, validated parameters, job_id)


@dataclass(frozen=True)
class Stage:
    name: str
    handler: Handler
    plan: Planner


@dataclass(frozen=True)
class JobType:
    """A kind of job. `parameters` validates the submitted parameters (pydantic model)."""

    name: str
    parameters: type[BaseModel]
    stages: tuple[Stage, ...]
    finalize: Finalizer | None = None
    on_failure: Cleanup | None = None
    max_attempts: int = 4
    timeout_seconds: int = 3600
    backoff_base_seconds: float = 30.0  # retry n waits min(base * 2**(n-1), max)
    backoff_max_seconds: float = 600.0
