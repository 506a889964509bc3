"""The registry of job types and of the completion hooks the platform attaches to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrace.db.pool import Connection
from terrace.errors import NotFound
from terrace.orchestration.definitions import JobType

# Called in the transaction that ends a job (completed or failed), with the job row.
CompletionHook = Callable[[Connection, dict[str, Any]], None]


class JobRegistry:
    def __init__(self) -> None:
        self._types: dict[str, JobType] = {}
        self._hooks: dict[str, CompletionHook] = {}
        self._reviewed: set[str] = set()

    def register(self, job_type: JobType, hook: CompletionHook | None = None, reviewed: bool = False) -> None:
        """Add a job type; a `reviewed` one ends in `awaiting_approval` until its review concludes."""
        self._types[job_type.name] = job_type
        if hook is not None:
            self._hooks[job_type.name] = hook
        if reviewed:
            self._reviewed.add(job_type.name)

    def get(self, name: str) -> JobType:
        if name not in self._types:
            raise NotFound(f"Unknown job type {name!r}.", f"Known job types: {', '.join(self.names())}.")
        return self._types[name]

    def hook(self, name: str) -> CompletionHook | None:
        return self._hooks.get(name)

    def reviewed(self, name: str) -> bool:
        return name in self._reviewed

    def names(self) -> list[str]:
        return sorted(self._types)
