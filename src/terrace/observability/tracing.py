"""Request ids: taken from `X-Request-ID` when well-formed, made otherwise, and carried along.

The id is bound in `structlog.contextvars` for the work it names: the API binds it for one
request, and a worker binds the id of the request that submitted a job around that job's tasks.
Whatever runs inside (a log line, a job submitted) reads it from there.
"""

from __future__ import annotations

import re
import uuid

import structlog

HEADER = "X-Request-ID"
# Letters, digits and a few separators, as proxies and tracing systems make them; anything else
# (CR/LF, quotes, spaces, overlong) could forge log lines or headers and is replaced.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def accepted_request_id(offered: str | None) -> str:
    """`offered` when it is a well-formed request id, else a new one."""
    if offered is not None and _WELL_FORMED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request id bound for the work in progress, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
