"""The classifier of task failures, given real exceptions: input errors keep their message and are
not retried, lost connections are retried to the job type's limit, anything else is an internal
error told only by a reference, retried once."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from datetime import timedelta

import obstore
import psycopg
import pyogrio
import pytest
import rasterio
from obstore.store import HTTPStore

from terrace.errors import Conflict, InvalidInput, NotFound
from terrace.orchestration.failures import INTERNAL_MAX_ATTEMPTS, classify
from terrace.storage import Storage

DOING = "running the prepare stage of a process_vector job"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raised(action: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def unreachable_database(port: int) -> BaseException:
    return raised(lambda: psycopg.connect(f"postgresql://terrace_app:secret@127.0.0.1:{port}/terrace"))


def unreachable_object_store(port: int) -> BaseException:
    store = HTTPStore.from_url(
        f"http://127.0.0.1:{port}/",
        client_options={"allow_http": True, "timeout": "1s"},
        retry_config={
            "max_retries": 0,
            "retry_timeout": timedelta(seconds=1),
            "backoff": {
                "init_backoff": timedelta(milliseconds=10),
                "max_backoff": timedelta(seconds=1),
                "base": 2,
            },
        },
    )
    return raised(lambda: obstore.get(store, "bronze/x.tif").bytes())


def unreachable_raster(port: int) -> BaseException:
    return raised(lambda: rasterio.open(f"/vsicurl/http://127.0.0.1:{port}/x.tif"))


def unreachable_vector(port: int) -> BaseException:
    with pytest.warns(RuntimeWarning):  # GDAL's own note of the HTTP failure
        return raised(lambda: pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{port}/x.gpkg"))


def refused_input(port: int) -> BaseException:
    """A reader that blamed the file for what was a network failure."""
    try:
        rasterio.open(f"/vsicurl/http://127.0.0.1:{port}/x.tif")
    except rasterio.errors.RasterioIOError as exc:
        try:
            raise InvalidInput("x.tif cannot be read as a raster.", "Upload it again.") from exc
        except InvalidInput as wrapped:
            return wrapped
    raise AssertionError("the read succeeded")


@pytest.mark.parametrize(
    "make",
    [
        unreachable_database,
        unreachable_object_store,
        unreachable_raster,
        unreachable_vector,
        refused_input,
        lambda _: TimeoutError("timed out"),
        lambda _: ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        lambda _: OSError(errno.ETIMEDOUT, "Connection timed out"),
    ],
    ids=["psycopg", "obstore", "rasterio", "pyogrio", "wrapped", "timeout", "reset", "etimedout"],
)
def test_a_lost_connection_is_transient_and_retried_to_the_job_types_limit(
    storage: Storage, closed_port: int, make: Callable[[int], BaseException]
) -> None:
    failure = classify(make(closed_port), storage, DOING)
    assert failure.max_attempts is None and failure.incident is None
    assert failure.error["category"] == "transient" and failure.error["code"] == "UNAVAILABLE"
    assert failure.error["message"].startswith("Terrace lost its connection to ")
    assert failure.error["message"].endswith(f" while {DOING}.")
    assert str(closed_port) not in str(failure.error) and "secret" not in str(failure.error)


@pytest.mark.parametrize("error_class", [InvalidInput, NotFound, Conflict])
def test_an_input_error_says_what_to_fix_and_is_never_retried(storage: Storage, error_class: type) -> None:
    error = error_class("parts.gpkg, feature 12: column 'depth' is not a number.", "Correct it.")
    failure = classify(error, storage, DOING)
    assert failure.max_attempts == 1 and failure.incident is None
    assert failure.error == {
        "code": error.code,
        "category": "input",
        "message": "parts.gpkg, feature 12: column 'depth' is not a number.",
        "remediation": "Correct it.",
        "user_fixable": True,
    }


def test_library_text_quoted_in_an_input_error_loses_paths_secrets_and_class_names(storage: Storage) -> None:
    quoted = (
        f"parts.gpkg cannot be opened: DataSourceError: '{storage.local_root}/bronze/parts.gpkg' "
        "via postgresql://terrace_app:hunter2@db:5432/terrace password=hunter2"
    )
    message = classify(InvalidInput(quoted, "Upload it again."), storage, DOING).error["message"]
    assert message.startswith("parts.gpkg cannot be opened: 'bronze/parts.gpkg' via ")
    for leaked in ("DataSourceError", str(storage.local_root), "postgresql://", "hunter2"):
        assert leaked not in message


def bug(root: str) -> None:
    raise RuntimeError(f"cannot read {root}/bronze/a.tif via postgresql://app:hunter2@db/terrace")


@pytest.mark.parametrize(
    "make",
    [
        lambda root: raised(lambda: bug(root)),
        lambda root: raised(lambda: {}["geometry"]),
        lambda root: raised(lambda: rasterio.open(f"{root}/bronze/missing.tif")),  # no network involved
    ],
    ids=["runtime", "key", "local-file"],
)
def test_anything_else_is_an_internal_error_told_by_reference_and_retried_once(
    storage: Storage, caplog: pytest.LogCaptureFixture, make: Callable[[str], BaseException]
) -> None:
    exc = make(str(storage.local_root))
    with caplog.at_level(logging.ERROR, logger="terrace.orchestration.failures"):
        failure = classify(exc, storage, DOING)
    assert failure.max_attempts == INTERNAL_MAX_ATTEMPTS == 2
    error, incident = failure.error, failure.incident
    assert incident is not None
    reference = incident["reference"]
    assert error == {
        "code": "INTERNAL_ERROR",
        "category": "internal",
        "message": f"Terrace hit an internal error while {DOING}; reference {reference}.",
        "remediation": "Terrace retries a failed task once; if the job fails, give an operator the "
        f"reference {reference}.",
        "user_fixable": False,
        "reference": reference,
    }
    assert type(exc).__name__ in incident["traceback"] and "Traceback" in incident["traceback"]
    (record,) = [r for r in caplog.records if reference in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[1] is exc
