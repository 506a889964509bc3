"""How a handler's exception becomes a task error: code, category, message, remedy, retryable."""

from __future__ import annotations

import traceback
from typing import Any

from terrace.errors import Conflict, InvalidInput, NotFound, TerraceError

# Errors the user must fix: retrying them changes nothing.
NOT_RETRYABLE = (InvalidInput, Conflict, NotFound)


def describe(exc: BaseException) -> tuple[dict[str, Any], bool]:
    """The error as stored on the task and job, and whether a retry may succeed."""
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    if isinstance(exc, TerraceError):
        user_fixable = isinstance(exc, NOT_RETRYABLE)
        error = {
            "code": exc.code,
            "category": "input" if user_fixable else "platform",
            "message": exc.message,
            "remediation": exc.remediation,
            "user_fixable": user_fixable,
        }
        retryable = not user_fixable
    else:
        error = {
            "code": "HANDLER_ERROR",
            "category": "internal",
            "message": f"{type(exc).__name__}: {exc}",
            "remediation": "Retried automatically; if it keeps failing, an operator should read the "
            "job's events and the worker log.",
            "user_fixable": False,
        }
        retryable = True
    error["trace"] = "".join(frames)[-2000:]
    return error, retryable
