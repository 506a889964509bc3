"""The one exception hierarchy: every error says what went wrong and how to fix it.

Each class names the HTTP status it answers with; `terrace.api.errors` renders them once.
"""

from __future__ import annotations

import uuid


def new_reference() -> str:
    """An id for a failure the server did not expect: the user is given it, and the log line (and,
    for a task, the job event) holding the details carries it."""
    return uuid.uuid4().hex


class TerraceError(Exception):
    """Base of all errors a user can see. `code` is stable; `remediation` says what to do."""

    code = "TERRACE_ERROR"
    http_status = 500

    def __init__(self, message: str, remediation: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "remediation": self.remediation}


class InvalidInput(TerraceError):
    """The request or its data is wrong; the user can fix it."""

    code = "INVALID_INPUT"
    http_status = 400


class NotFound(TerraceError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(TerraceError):
    """The request clashes with the current state (duplicate, immutable, busy)."""

    code = "CONFLICT"
    http_status = 409


class PayloadTooLarge(TerraceError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class Unauthenticated(TerraceError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(TerraceError):
    code = "FORBIDDEN"
    http_status = 403


class Unavailable(TerraceError):
    """A component the request needs (database, storage) is not reachable."""

    code = "UNAVAILABLE"
    http_status = 503


class SetupError(TerraceError):
    """The local installation cannot do what was asked (missing binary, bad permissions)."""

    code = "SETUP_ERROR"
    http_status = 500


class RateLimited(TerraceError):
    """The caller sent more requests of a route group than its limit allows in the window."""

    code = "RATE_LIMITED"
    http_status = 429


class LeaseLost(TerraceError):
    """A task's attempt whose lease expired and whose task was taken over: its work is discarded."""

    code = "LEASE_LOST"
    http_status = 409

    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"Task {task_id} was taken over after its lease expired; this attempt's work is discarded.",
            "Nothing to do: the attempt that holds the task now finishes it.",
        )
