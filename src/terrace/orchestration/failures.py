"""How a handler's exception becomes a task error: code, category, message, remedy, retryable.

The error is what users read, with server paths made storage-relative; the traceback goes to
the log only, under a reference the error's remediation names.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from terrace.errors import Conflict, InvalidInput, NotFound, TerraceError
from terrace.storage import Storage
from terrace.storage.redact import redact

log = logging.getLogger(__name__)

# Errors the user must fix: retrying them changes nothing.
NOT_RETRYABLE = (InvalidInput, Conflict, NotFound)


def describe(exc: BaseException, storage: Storage) -> tuple[dict[str, Any], bool]:
    """The error as stored on the task and job, and whether a retry may succeed."""
    reference = secrets.token_hex(6)
    log.warning("task error %s: %s", reference, exc, exc_info=exc)
    if isinstance(exc, TerraceError):
        user_fixable = isinstance(exc, NOT_RETRYABLE)
        error = {
            "code": exc.code,
            "category": "input" if user_fixable else "platform",
            "message": exc.message,
            "remediation": exc.remediation,
            "user_fixable": user_fixable,
        }
    else:
        user_fixable = False
        error = {
            "code": "HANDLER_ERROR",
            "category": "internal",
            "message": f"{type(exc).__name__}: {exc}",
            "remediation": "Retried automatically; if it keeps failing, an operator should read the "
            f"worker log at reference {reference}.",
            "user_fixable": False,
        }
    return redact(error, storage), not user_fixable
