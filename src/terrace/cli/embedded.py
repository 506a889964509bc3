"""The embedded default behind `terrace up`: cluster, storage, admin key, API, public-zone API and workers.

Everything runs as child processes of `terrace up`, each in its own session so that a Ctrl-C
in the terminal reaches only the supervisor, which then stops the children in order and the
cluster last. A child that dies is restarted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from terrace.auth import Role, register_key
from terrace.cli.kept import admin_key, public_reader_password, role_passwords, session_secret
from terrace.db.cluster import LocalCluster
from terrace.db.database import ensure_database
from terrace.db.pool import connect
from terrace.db.roles import enable_logins
from terrace.errors import SetupError
from terrace.pipelines import default_registry, ensure_default_schedules
from terrace.public.database import create_sibling_database, enable_reader_login, ensure_public_database
from terrace.public.target import PUBLIC_CONTAINER
from terrace.storage import Storage
from terrace.storage.azure import AzureAccount

RESTART_DELAY_SECONDS = 5.0
PUBLIC_DATABASE = "terrace_public"
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class EmbeddedOptions:
    home: Path
    host: str
    port: int
    public_port: int
    workers: int
    database_url: str | None
    storage_url: str | None
    api_key: str | None
    public_database_url: str | None = None
    public_storage_url: str | None = None
    azure: AzureAccount | None = None  # of az:// storage URLs


@dataclass
class Child:
    name: str
    command: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def run_embedded(options: EmbeddedOptions) -> None:
    """Start everything, print where it is, supervise until SIGINT/SIGTERM, stop everything."""
    home = options.home
    (home / "logs").mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    cluster = LocalCluster(home) if options.database_url is None else None
    started_cluster = cluster.start() if cluster else False
    children: list[Child] = []
    try:
        url = options.database_url or _embedded_database(cluster)  # type: ignore[arg-type]
        ensure_database(url)
        ensure_default_schedules(url, default_registry())
        databases = enable_logins(url, role_passwords(home))
        storage = (
            Storage(options.storage_url, azure=options.azure)
            if options.storage_url
            else Storage.local(home / "storage")
        )
        storage.create_containers()
        public = _public_zone(home, options, url, storage)
        key = admin_key(home, options.api_key)
        with connect(url) as conn:
            register_key(conn, key, "embedded admin", Role.admin)
        # The children connect as the least-privileged roles; the owner's URL stays here.
        env = {name: value for name, value in os.environ.items() if name != "TERRACE_DATABASE_URL"}
        env.update(
            TERRACE_APP_DATABASE_URL=databases.app,
            TERRACE_SERVING_DATABASE_URL=databases.serving,
            TERRACE_PREVIEW_DATABASE_URL=databases.preview,
            TERRACE_STORAGE_URL=storage.root_url,
            TERRACE_HOST=options.host,
            TERRACE_PORT=str(options.port),
            TERRACE_SESSION_SECRET=session_secret(home, os.environ.get("TERRACE_SESSION_SECRET")),
            TERRACE_PUBLIC_DATABASE_URL=public.database_url,
            TERRACE_PUBLIC_SERVING_DATABASE_URL=public.serving_url,
            TERRACE_PUBLIC_STORAGE_URL=public.storage_url,
            PROMETHEUS_MULTIPROC_DIR=str(_metrics_folder(home)),
        )
        children = _children(home, options.workers, options.public_port)
        for child in children:
            child.start(env)
        base = f"http://{options.host}:{options.port}"
        public_base = f"http://{options.host}:{options.public_port}"
        _wait_ready(f"{base}/readyz", children[0], stop)
        _wait_ready(f"{public_base}/stac/_mgmt/ping", children[1], stop)
        _print_banner(base, public_base, key, options, url, storage, cluster)
        _supervise(children, env, stop)
    finally:
        _stop_children(children)
        if cluster and started_cluster:
            cluster.stop()
        print("Terrace stopped.", flush=True)


def _metrics_folder(home: Path) -> Path:
    """Where the children write their metrics for /metrics to add up: emptied at each start, as
    prometheus-client's multiprocess mode needs (the counts of earlier runs are gone)."""
    folder = home / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _embedded_database(cluster: LocalCluster) -> str:
    cluster.create_database("terrace")
    return cluster.url()


@dataclass(frozen=True)
class PublicZone:
    database_url: str  # the target's owner: the workers export with it
    serving_url: str  # its read-only role: the public-zone API reads with it
    storage_url: str


def _public_zone(home: Path, options: EmbeddedOptions, main_url: str, storage: Storage) -> PublicZone:
    """The public target, ensured: TERRACE_PUBLIC_DATABASE_URL, or database terrace_public beside
    the main one (in the embedded cluster, or on the server of TERRACE_DATABASE_URL); its container
    `public` in TERRACE_PUBLIC_STORAGE_URL or the main storage."""
    url = options.public_database_url or create_sibling_database(main_url, PUBLIC_DATABASE)
    ensure_public_database(url)
    public_storage = Storage(
        options.public_storage_url or storage.root_url, (PUBLIC_CONTAINER,), azure=options.azure
    )
    public_storage.create_containers()
    serving_url = enable_reader_login(url, public_reader_password(home))
    return PublicZone(url, serving_url, public_storage.root_url)


def _children(home: Path, workers: int, public_port: int) -> list[Child]:
    cli = [sys.executable, "-m", "terrace"]
    logs = home / "logs"
    api = Child("api", [*cli, "api"], logs / "api.log")
    public = Child("public", [*cli, "public", "--port", str(public_port)], logs / "public.log")
    return [api, public] + [
        Child(f"worker-{n}", [*cli, "worker"], logs / f"worker-{n}.log") for n in range(1, workers + 1)
    ]


def _wait_ready(url: str, server: Child, stop: threading.Event, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if not server.alive():
            raise SetupError(f"The {server.name} process exited at start-up.", f"See {server.log}.")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    if not stop.is_set():
        raise SetupError(
            f"The {server.name} process did not become ready within {timeout:.0f} s.", f"See {server.log}."
        )


def _supervise(children: list[Child], env: dict[str, str], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        for child in children:
            if not child.alive() and time.monotonic() - child.started_at > RESTART_DELAY_SECONDS:
                code = child.process.returncode if child.process else None
                print(f"{child.name} exited (code {code}); restarting. Log: {child.log}", flush=True)
                child.start(env)


def _stop_children(children: list[Child]) -> None:
    running = [c for c in children if c.alive()]
    for child in running:
        child.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in running:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            child.process.kill()  # type: ignore[union-attr]
            child.process.wait()  # type: ignore[union-attr]


def _print_banner(
    base: str,
    public_base: str,
    key: str,
    options: EmbeddedOptions,
    url: str,
    storage: Storage,
    cluster: LocalCluster | None,
) -> None:
    database = (
        f"embedded, port {cluster.port()}, data in {cluster.data_dir}" if cluster else "TERRACE_DATABASE_URL"
    )
    key_source = "TERRACE_API_KEY" if options.api_key else f"saved in {options.home / 'api_key'}"
    print(
        "\n".join(
            [
                "Terrace is running.",
                f"  API        {base}  (OpenAPI: {base}/docs)",
                f"  Interface  {base}/interface/  (sign in with the admin key)",
                f"  Health     {base}/api/health",
                f"  Public     {public_base}  (/features, /stac, /tiles of releases cleared public)",
                f"  Admin key  {key}  ({key_source})",
                f"  Database   {database}",
                f"  Storage    {storage.root_url}",
                f"  Workers    {options.workers}",
                f"  Logs       {options.home / 'logs'}",
                "Press Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )
