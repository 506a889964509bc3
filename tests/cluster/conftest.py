"""The cluster harness: one deployment on namespace hosts per module, torn down however it ends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.cluster.deployment import Deployment
from tests.cluster.network import available


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    reason = available()
    if reason is not None:
        pytest.skip(reason)
    built = Deployment()
    request.addfinalizer(built.stop)  # registered first: runs even when start() fails half-way
    built.start()
    yield built


@pytest.fixture
def client(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client() as opened:
        yield opened


@pytest.fixture
def all_workers(deployment: Deployment) -> Iterator[Deployment]:
    """Every worker host up before the test and again after it (a fault may have taken one)."""
    restore(deployment)
    yield deployment
    restore(deployment)


def restore(deployment: Deployment) -> None:
    for name in deployment.worker_names:
        deployment.host(name).plug()
        if not any(p.poll() is None for p in deployment.processes.get(name, [])):
            deployment.start_worker(name)
    deployment.wait_ready()
