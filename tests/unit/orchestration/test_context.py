"""A task's connections: an unreachable database is an Unavailable error the task's retry handles,
whose text names no host or port."""

from __future__ import annotations

import socket

import pytest

from terrace.errors import Unavailable
from terrace.orchestration.context import TaskRun
from terrace.orchestration.definitions import NoInput
from terrace.orchestration.failures import classify
from terrace.storage import Storage


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def task(storage: Storage, port: int) -> TaskRun[NoInput, NoInput]:
    return TaskRun(
        job_id="j" * 64,
        task_id="j" * 64 + ":1:0",
        job_type="process_vector",
        stage=1,
        attempt=1,
        params=NoInput(),
        task=NoInput(),
        database_url=f"postgresql://terrace_app:secret@127.0.0.1:{port}/terrace?connect_timeout=2",
        storage=storage,
        pool=None,  # type: ignore[arg-type]  # neither progress nor checkpoints are reported here
        worker_id="w",
    )


@pytest.mark.parametrize("driver", ["psycopg", "adbc"])
def test_an_unreachable_database_is_unavailable_and_retried(
    storage: Storage, closed_port: int, driver: str
) -> None:
    run = task(storage, closed_port)
    with pytest.raises(Unavailable) as raised:
        with run.connect() if driver == "psycopg" else run.adbc():
            pass
    failure = classify(raised.value, storage, "running a test task")
    error = failure.error
    assert failure.max_attempts is None  # retried up to the job type's limit
    assert error["code"] == "UNAVAILABLE" and error["category"] == "transient"
    assert str(closed_port) not in error["message"] + error["remediation"]
    assert "secret" not in str(error)
