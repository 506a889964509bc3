"""Shared fixtures: one real PostgreSQL+PostGIS+pgSTAC cluster per session, a database per test.

The session builds a template database once (extensions, pgSTAC, ensured schema); each test gets
a clone made with CREATE DATABASE ... TEMPLATE, which takes a fraction of a second.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql

from terrace.api.app import AppConfig, create_app
from terrace.auth import Role, create_key
from terrace.db.cluster import LocalCluster, free_port
from terrace.db.database import ensure_database
from terrace.db.roles import ROLES, RoleUrls, enable_logins, login_urls
from terrace.storage import Storage
from terrace.storage.azure import AzureAccount
from tests.azurite.server import AzuriteServer, start_azurite
from tests.corpus import outcome as corpus

TEMPLATE = "terrace_template"
AZURE_CONTAINER = "terrace"
# `pytestmark = STORAGE_BACKENDS` runs a module's tests on local folders and on Azurite.
STORAGE_BACKENDS = pytest.mark.parametrize("storage", ["local", "azurite"], indirect=True)
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # set in a test process of pytest-xdist


def pytest_configure(config: pytest.Config) -> None:
    if WORKER is None:  # the controlling process, before any test process starts
        shutil.rmtree(corpus.report_folder(config.rootpath), ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if corpus.RECORDED:
        corpus.write(
            corpus.RECORDED, corpus.report_folder(session.config.rootpath) / f"{WORKER or 'main'}.json"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    outcomes = corpus.gather(corpus.report_folder(config.rootpath))
    if outcomes:
        terminalreporter.section("real-world corpus")
        terminalreporter.write_line(corpus.table(outcomes))


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    home = Path(tempfile.mkdtemp(prefix="terrace-test-"))
    local = LocalCluster(home, durable=False)
    local.start()
    try:
        yield local
    finally:
        local.destroy()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(cluster: LocalCluster) -> str:
    cluster.create_database(TEMPLATE)
    ensure_database(cluster.url(TEMPLATE))
    return TEMPLATE


def create_database(cluster: LocalCluster, template: str | None = None) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(statement)
    return name


def drop_database(cluster: LocalCluster, name: str) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def role_passwords(cluster: LocalCluster, template_database: str) -> dict[str, str]:
    """Logins for Terrace's roles, which the template's ensure created (roles span the cluster)."""
    passwords = {role: secrets.token_urlsafe(16) for role in ROLES}
    enable_logins(cluster.url(template_database), passwords)
    return passwords


@pytest.fixture
def owner_database_url(cluster: LocalCluster, template_database: str) -> Iterator[str]:
    """A fresh database with the full Terrace schema, as its owner (the cluster superuser)."""
    name = create_database(cluster, template_database)
    yield cluster.url(name)
    drop_database(cluster, name)


@pytest.fixture
def databases(owner_database_url: str, role_passwords: dict[str, str]) -> RoleUrls:
    """The fresh database as each least-privileged role sees it."""
    return login_urls(owner_database_url, role_passwords)


@pytest.fixture
def database_url(databases: RoleUrls) -> str:
    """The fresh database as the application role, which the API and workers use."""
    return databases.app


@pytest.fixture
def empty_database_url(cluster: LocalCluster) -> Iterator[str]:
    """A fresh database with nothing in it."""
    name = create_database(cluster)
    yield cluster.url(name)
    drop_database(cluster, name)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """Azurite on loopback for this test process, with the blob container tests share."""
    folder = tmp_path_factory.mktemp("azurite")
    with start_azurite("127.0.0.1", free_port(), folder, containers=(AZURE_CONTAINER,)) as server:
        yield server


@pytest.fixture
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Local folders; on Azurite (a folder of its own in the shared blob container) when a test
    parametrizes it indirectly with "azurite", e.g. over STORAGE_BACKENDS."""
    if getattr(request, "param", "local") == "azurite":
        server: AzuriteServer = request.getfixturevalue("azurite")
        account = AzureAccount.resolve(connection_string=server.connection_string)
        return Storage(f"az://{AZURE_CONTAINER}/{uuid.uuid4().hex[:12]}", azure=account)
    local = Storage.local(tmp_path / "storage")
    local.create_containers()
    return local


@pytest.fixture
def keys(database_url: str) -> dict[Role, str]:
    """One API key per role."""
    with psycopg.connect(database_url) as conn:
        return {role: create_key(conn, f"test {role.value}", role)[1] for role in Role}


class LiveServer:
    """A real uvicorn server on a free loopback port, in a background thread."""

    def __init__(self, config: AppConfig) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server_config = uvicorn.Config(
            create_app(config), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(server_config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def app_config(databases: RoleUrls, owner_database_url: str, storage: Storage) -> AppConfig:
    return AppConfig(
        databases=databases,
        storage=storage,
        upload_max_bytes=1024 * 1024,
        owner_database_url=owner_database_url,
    )


@pytest.fixture
def api(app_config: AppConfig) -> Iterator[httpx.Client]:
    """An HTTP client talking to a live Terrace API over loopback."""
    with LiveServer(app_config) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def worker(database_url: str, storage: Storage) -> Iterator[None]:
    """A real CoreMachine worker (all job types, the demonstration ones too) in this process."""
    from terrace.orchestration.demo import with_demos
    from terrace.orchestration.worker import Worker, WorkerConfig
    from terrace.pipelines import default_registry

    running = Worker(
        database_url,
        with_demos(default_registry()),
        storage,
        WorkerConfig(concurrency=2, lease_seconds=10, poll_seconds=1, grace_seconds=5, janitor_seconds=0.5),
    )
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield
    running.stop()
    thread.join(timeout=30)


@pytest.fixture
def platform_api(api: httpx.Client, worker: None) -> httpx.Client:
    """The live API with a worker processing what it submits."""
    return api
