"""The main API and a worker that know the public zone, exporting to the test's own target."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from terrace.api.app import AppConfig
from terrace.db.roles import RoleUrls
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.public.target import PublicTarget
from terrace.storage import Storage
from tests.e2e.public import zone

# The public zone's fixtures, for the tests of this folder.
public_template = zone.public_template
public_reader_password = zone.public_reader_password
public_owner_url = zone.public_owner_url
public_reader_url = zone.public_reader_url
public_target = zone.public_target
public_api = zone.public_api


@pytest.fixture
def app_config(
    databases: RoleUrls, owner_database_url: str, storage: Storage, public_target: PublicTarget
) -> AppConfig:
    return AppConfig(
        databases=databases,
        storage=storage,
        registry=default_registry(public=public_target),
        upload_max_bytes=1024 * 1024,
        owner_database_url=owner_database_url,
    )


@pytest.fixture
def worker(database_url: str, storage: Storage, public_target: PublicTarget) -> Iterator[None]:
    running = Worker(
        database_url,
        default_registry(public=public_target),
        storage,
        WorkerConfig(concurrency=2, lease_seconds=10, poll_seconds=1, grace_seconds=5, janitor_seconds=0.5),
    )
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield
    running.stop()
    thread.join(timeout=30)
