"""How a handler's exception becomes a task error users may read, and how often the task is tried.

Input errors (the user's data or request is wrong) keep their message, which names what to fix,
and are never retried. Transient errors (a lost database or storage connection, a network
time-out) are retried with backoff up to the job type's limit. Anything else is an internal
error, retried once: users read only a reference, which the worker log and an `internal_error`
job event (for admins) carry beside the traceback.
"""

from __future__ import annotations

import errno
import logging
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import adbc_driver_manager
import psycopg
import pyogrio.errors
import rasterio.errors
from obstore.exceptions import BaseError as ObjectStoreError

from terrace.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    new_reference,
)
from terrace.storage import Storage
from terrace.storage.redact import redact

log = logging.getLogger(__name__)

INPUT_ERRORS = (InvalidInput, Conflict, NotFound, PayloadTooLarge)
INTERNAL_MAX_ATTEMPTS = 2  # an internal error is retried once; a second one is no accident
DATABASE_ERRORS = (psycopg.OperationalError, adbc_driver_manager.OperationalError)
# I/O errors of the object store and of GDAL's bindings: transient when their text tells of a
# network failure, as GDAL's /vsicurl and obstore's HTTP clients report them.
REMOTE_IO_ERRORS = (
    ObjectStoreError,
    rasterio.errors.RasterioError,
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
)
NETWORK_TEXT = re.compile(
    r"timed? ?out|timeout|error sending request|connection (?:refused|reset|closed|aborted|lost)"
    r"|(?:could ?n[o']t|failed to) (?:connect|resolve)|broken pipe|network is unreachable"
    r"|temporar(?:y|ily) unavailable|service unavailable|too many requests"
    r"|HTTP (?:response|error) code\s*:?\s*(?:408|429|5\d\d)|kind: (?:Connect|Timeout|Interrupted)",
    re.IGNORECASE,
)
NETWORK_ERRNOS = frozenset(
    {
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.ENETRESET,
        errno.EHOSTUNREACH,
    }
)
# What library text quoted in a message may hold that users must not read: connection strings
# with their passwords, and exception class names ("TopologyException: ...").
SECRETS = re.compile(r"\bpostgres(?:ql)?://[^\s'\"]+|\bpassword\s*=\s*[^\s'\"]+", re.IGNORECASE)
CLASS_NAME = re.compile(r"\b[A-Za-z_][\w.]*(?:Error|Exception|Invalid)\b:\s*")


@dataclass(frozen=True)
class Failure:
    """A classified failure: the error users read, the most attempts its task gets (None: the job
    type's limit) and, for an internal error, the operators' record {reference, traceback}."""

    error: dict[str, Any]
    max_attempts: int | None
    incident: dict[str, str] | None = None


# A full disk as the OS and GDAL (which checks before writing a GeoTIFF) report it.
NO_SPACE_TEXT = re.compile(r"no space left on device|free disk space available is", re.IGNORECASE)
DISK_FULL_MAX_ATTEMPTS = 2  # another worker may have room; a second full disk is no accident


def classify(exc: BaseException, storage: Storage, doing: str) -> Failure:
    """`exc`, raised while `doing` (e.g. "running the prepare stage of a process_vector job")."""
    if out_of_space(exc):
        return _disk_full(exc, doing, storage)
    service = lost_connection(exc)
    if service is not None:
        return _transient(exc, service, doing, storage)
    if isinstance(exc, INPUT_ERRORS):
        log.info("input error while %s: %s", doing, exc)
        return Failure(_public(exc.code, "input", exc.message, exc.remediation, storage), max_attempts=1)
    return _internal(exc, doing, storage)


def lost_connection(exc: BaseException) -> str | None:
    """What `exc`, or an error it was raised from, lost its connection to; None if it did not."""
    for error in _chain(exc):
        if isinstance(error, DATABASE_ERRORS):
            return "the database"
        if isinstance(error, REMOTE_IO_ERRORS) and NETWORK_TEXT.search(str(error)):
            return "storage"
        if isinstance(error, (TimeoutError, ConnectionError)) or (
            isinstance(error, OSError) and error.errno in NETWORK_ERRNOS
        ):
            return "a network service"
        if isinstance(error, Unavailable):
            return "a service it needs"
    return None


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is a full disk."""
    return any(
        (isinstance(error, OSError) and error.errno == errno.ENOSPC) or bool(NO_SPACE_TEXT.search(str(error)))
        for error in _chain(exc)
    )


def _disk_full(exc: BaseException, doing: str, storage: Storage) -> Failure:
    log.warning("disk full while %s: %s", doing, exc)
    message = f"A worker ran out of temporary disk space while {doing}."
    remediation = (
        "An operator should free or enlarge the workers' temporary folder (TMPDIR, /tmp by default); "
        "then submit the file again with the processing option overwrite."
    )
    return Failure(_public("DISK_FULL", "resources", message, remediation, storage), DISK_FULL_MAX_ATTEMPTS)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or while handling, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _transient(exc: BaseException, service: str, doing: str, storage: Storage) -> Failure:
    log.warning("lost %s while %s: %s", service, doing, exc)
    if isinstance(exc, Unavailable):
        message, remediation = exc.message, exc.remediation
    else:
        message = f"Terrace lost its connection to {service} while {doing}."
        remediation = (
            "Retried automatically after a growing delay; if it keeps failing, an operator should "
            f"check that the workers reach {service}."
        )
    return Failure(_public("UNAVAILABLE", "transient", message, remediation, storage), max_attempts=None)


def _internal(exc: BaseException, doing: str, storage: Storage) -> Failure:
    reference = new_reference()
    log.error("internal error while %s (reference %s)", doing, reference, exc_info=exc)
    error = _public(
        "INTERNAL_ERROR",
        "internal",
        f"Terrace hit an internal error while {doing}; reference {reference}.",
        f"Terrace retries a failed task once; if the job fails, give an operator the reference {reference}.",
        storage,
    )
    incident = {"reference": reference, "traceback": "".join(traceback.format_exception(exc))}
    return Failure({**error, "reference": reference}, INTERNAL_MAX_ATTEMPTS, incident)


def _public(code: str, category: str, message: str, remediation: str, storage: Storage) -> dict[str, Any]:
    """An error as users read it: no server path, connection string or class name."""
    error = {
        "code": code,
        "category": category,
        "message": _scrub(message),
        "remediation": _scrub(remediation),
        "user_fixable": category == "input",
    }
    return redact(error, storage)


def _scrub(text: str) -> str:
    return CLASS_NAME.sub("", SECRETS.sub("[hidden]", text))
