"""Fixtures of the public zone: a target database per test (cloned from a template ensured once),
its `public` container beside bronze and silver, and the public-zone API on its own port."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from terrace.api.public import PublicAppConfig, create_public_app
from terrace.db.cluster import LocalCluster, free_port
from terrace.public.database import enable_reader_login, ensure_public_database
from terrace.public.target import PublicTarget
from terrace.storage import Storage
from tests.conftest import create_database, drop_database

PUBLIC_TEMPLATE = "terrace_public_template"


@pytest.fixture(scope="session")
def public_template(cluster: LocalCluster) -> str:
    cluster.create_database(PUBLIC_TEMPLATE)
    ensure_public_database(cluster.url(PUBLIC_TEMPLATE))
    return PUBLIC_TEMPLATE


@pytest.fixture(scope="session")
def public_reader_password(cluster: LocalCluster, public_template: str) -> str:
    password = secrets.token_urlsafe(16)
    enable_reader_login(cluster.url(public_template), password)
    return password


@pytest.fixture
def public_owner_url(cluster: LocalCluster, public_template: str) -> Iterator[str]:
    """A fresh public target database, as its owner (what the export jobs write with)."""
    name = create_database(cluster, public_template)
    yield cluster.url(name)
    drop_database(cluster, name)


@pytest.fixture
def public_reader_url(public_owner_url: str, public_reader_password: str) -> str:
    """The same database as the public-zone API's read-only role."""
    from terrace.db.roles import role_url
    from terrace.public.target import READER_ROLE

    return role_url(public_owner_url, READER_ROLE, public_reader_password)


@pytest.fixture
def public_target(public_owner_url: str, storage: Storage) -> PublicTarget:
    target = PublicTarget.of(public_owner_url, storage.root_url, storage.azure)
    target.storage.create_containers()
    return target


class Served:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("public-zone API did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def public_api(public_reader_url: str, public_target: PublicTarget) -> Iterator[httpx.Client]:
    """A client of the live public-zone API: the target as its reader, the public container."""
    storage = public_target.storage
    app = create_public_app(
        PublicAppConfig(serving_url=public_reader_url, storage=storage, body_max_bytes=64 * 1024)
    )
    with Served(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
