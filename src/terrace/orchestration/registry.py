"""The registry of job types and of the completion hooks the platform attaches to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrace.db.pool import Connection
from terrace.errors import NotFound
from terrace.orchestration.definitions import JobType

# Called in the transaction that ends a job (completed or failed), with the job row; True when
# what the completed job made now awaits review, which CoreMachine shows as `awaiting_approval`.
CompletionHook = Callable[[Connection, dict[str, Any]], bool]


class JobRegistry:
    def __init__(self) -> None:
        self._types: dict[str, JobType] = {}
        self._hooks: dict[str, CompletionHook] = {}

    def register(self, job_type: JobType, hook: CompletionHook | None = None) -> None:
        self._types[job_type.name] = job_type
        if hook is not None:
            self._hooks[job_type.name] = hook

    def get(self, name: str) -> JobType:
        if name not in self._types:
            raise NotFound(f"Unknown job type {name!r}.", f"Known job types: {', '.join(self.names())}.")
        return self._types[name]

    def hook(self, name: str) -> CompletionHook | None:
        return self._hooks.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)
