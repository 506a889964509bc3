"""A Terrace deployment on namespace hosts: PostgreSQL on `db`, storage on `storage`, `terrace api`
on `api` and `terrace worker` on `w1`..`wN`, each started from the systemd units of
`deploy/systemd` with only what a real deployment gives it (the env file, the unit's environment).

Storage is a folder of the database host that every host reaches through the shared filesystem
(`local`), or Azurite on the storage host (`azurite`, Azure Blob through `az://`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from terrace.auth import Role, create_key
from terrace.db.cluster import SUPERUSER, find_bindir
from terrace.db.database import ensure_database
from terrace.db.roles import ROLES, RoleUrls, enable_logins, login_urls
from terrace.storage import Storage
from tests.cluster.network import Host, Network
from tests.cluster.units import read_env_file, unit

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "cluster"
PG_PORT = 5432
API_PORT = 8000
AZURITE_PORT = 10000
FINISHED = {"awaiting_approval", "completed", "failed", "cancelled"}


@dataclass(frozen=True)
class Options:
    """What the harness tunes: short leases so that a lost worker is noticed within seconds."""

    workers: int = 3
    storage: str = os.environ.get("TERRACE_CLUSTER_STORAGE", "azurite")  # azurite | local
    lease_seconds: float = 3.0
    janitor_seconds: float = 0.5
    grace_seconds: float = 2.0
    worker_tmp_size: str = "256m"
    # A module run by the workers' unit instead of `terrace worker` (benchmarks: tests.demo_worker,
    # which adds the no-op job types).
    worker_module: str | None = None


@dataclass
class Deployment:
    options: Options = field(default_factory=Options)
    network: Network = field(default_factory=Network)
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = self.network.folder
        self.logs = ARTIFACTS / self.network.run
        self.password = secrets.token_urlsafe(18)
        self.env_file: dict[str, str] = {}
        self.worker_tmp: dict[str, Path] = {}

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.network.create()
        for name in ("db", "storage", "api", *self.worker_names):
            self.network.add_host(name)
        self.start_database()
        self.databases = self.create_database()
        storage = self.start_storage()
        self.env_file = self.write_env_file(self.databases, storage)
        self.admin_key = self.create_admin_key()
        self.start_api()
        for name in self.worker_names:
            self.worker_tmp[name] = self.network.tmpfs(self.host(name), self.options.worker_tmp_size)
            self.start_worker(name)
        self.wait_ready()

    def stop(self) -> None:
        for name in list(self.processes):
            self.terminate(name, timeout=5)  # then killed; the namespaces go next anyway
        self.stop_database()
        self.network.destroy()

    @property
    def worker_names(self) -> list[str]:
        return [f"w{n}" for n in range(1, self.options.workers + 1)]

    def host(self, name: str) -> Host:
        return self.network.hosts[name]

    @property
    def api_url(self) -> str:
        return f"http://{self.host('api').address}:{API_PORT}"

    @property
    def data_dir(self) -> Path:
        return self.folder / "pg"

    def pg(self, tool: str, *args: str, netns: bool = True) -> None:
        command = ["runuser", "-u", "postgres", "--", str(find_bindir() / tool), *args]
        if netns:
            command = ["ip", "netns", "exec", self.host("db").namespace, *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")

    def start_database(self) -> None:
        """initdb once, listening on the db host's address only, then start."""
        if not (self.data_dir / "PG_VERSION").exists():
            self.folder.chmod(0o755)
            self.folder.parent.chmod(0o755)
            self.data_dir.mkdir(mode=0o700)
            shutil.chown(self.data_dir, "postgres", "postgres")
            password_file = self.folder / "pg-password"
            password_file.write_text(self.password + "\n")
            shutil.chown(password_file, "postgres", "postgres")
            self.pg(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                netns=False,
            )
            password_file.unlink()
            with open(self.data_dir / "postgresql.conf", "a") as conf:
                conf.write(
                    f"listen_addresses = '{self.host('db').address}'\nport = {PG_PORT}\n"
                    f"unix_socket_directories = '{self.data_dir}'\nmax_connections = 200\n"
                    # No fsync (no host crash is simulated) but every commit written before it
                    # returns: a PostgreSQL killed mid-job loses no committed transaction.
                    "shared_buffers = 128MB\nfsync = off\n"
                )
            with open(self.data_dir / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.network.subnet}.0/24 scram-sha-256\n")
        self.pg(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "postgres.log"),
            "-w",
            "-t",
            "60",
        )

    def stop_database(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(find_bindir() / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                ],
                capture_output=True,
                cwd="/",
            )

    def owner_url(self, dbname: str = "terrace") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{self.host('db').address}:{PG_PORT}/{dbname}"

    def create_database(self) -> RoleUrls:
        """The database and its roles, as an operator sets them up: `terrace db ensure`, then logins."""
        with psycopg.connect(self.owner_url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE terrace")
        ensure_database(self.owner_url())
        passwords = {role: secrets.token_urlsafe(16) for role in ROLES}
        enable_logins(self.owner_url(), passwords)
        return login_urls(self.owner_url(), passwords)

    def create_admin_key(self) -> str:
        with psycopg.connect(self.databases.app) as conn:
            return create_key(conn, "cluster admin", Role.admin)[1]

    def start_storage(self) -> dict[str, str]:
        """The storage settings every host gets (the env file's part)."""
        if self.options.storage == "local":
            root = self.folder / "storage"
            for container in ("bronze", "silver"):
                (root / container).mkdir(parents=True, exist_ok=True)
            return {"TERRACE_STORAGE_URL": root.as_uri()}
        self.start_azurite()
        return {"TERRACE_STORAGE_URL": "az://terrace", **self.azurite_environment()}

    def start_azurite(self) -> None:
        """Azurite on the storage host, its blobs in a folder of the run (kept across restarts)."""
        from tests.azurite.server import AzuriteServer

        host = self.host("storage")
        folder = self.folder / "azurite"
        folder.mkdir(exist_ok=True)
        executable = ROOT / "tests" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
        command = [
            *(str(executable), "--blobHost", host.address, "--blobPort", str(AZURITE_PORT)),
            *("--location", str(folder), "--skipApiVersionCheck", "--disableTelemetry", "--silent"),
        ]
        self.spawn("storage", command, {"PATH": os.environ["PATH"], "HOME": str(folder)})
        wait_http(f"http://{host.address}:{AZURITE_PORT}/devstoreaccount1?comp=list", accept={200, 400, 403})
        AzuriteServer(host.address, AZURITE_PORT, self.processes["storage"][0]).create_container("terrace")

    def restart_storage(self, down_seconds: float = 1.0) -> None:
        """Stop the storage host's service, then start it. Azurite saves its state as it stops but
        waits for its clients' idle keep-alive connections to close: they get 3 seconds."""
        self.terminate("storage", timeout=3)
        time.sleep(down_seconds)
        self.start_azurite()

    def blob_size(self, container: str, path: str) -> int | None:
        """The size of an object on Azurite; None when there is none."""
        from terrace.storage.azure import AzureAccount

        account = AzureAccount.resolve(connection_string=self.env_file["AZURE_STORAGE_CONNECTION_STRING"])
        storage = Storage(self.env_file["TERRACE_STORAGE_URL"], azure=account)
        if not storage.exists(container, path):
            return None
        return len(storage.get(container, path))

    def azurite_environment(self) -> dict[str, str]:
        from tests.azurite.server import AzuriteServer

        return AzuriteServer(self.host("storage").address, AZURITE_PORT, None).environment()  # type: ignore[arg-type]

    def write_env_file(self, databases: RoleUrls, storage: dict[str, str]) -> dict[str, str]:
        """/etc/terrace/terrace.env of every API and worker host."""
        text = "\n".join(
            f"{key}={value}"
            for key, value in {
                "TERRACE_APP_DATABASE_URL": databases.app,
                "TERRACE_SERVING_DATABASE_URL": databases.serving,
                "TERRACE_PREVIEW_DATABASE_URL": databases.preview,
                **storage,
                "TERRACE_SESSION_SECRET": secrets.token_urlsafe(32),
                "TERRACE_LEASE_SECONDS": str(self.options.lease_seconds),
                "TERRACE_JANITOR_SECONDS": str(self.options.janitor_seconds),
                "TERRACE_GRACE_SECONDS": str(self.options.grace_seconds),
                "TERRACE_RATE_LIMITS": "{}",
            }.items()
        )
        path = self.folder / "terrace.env"
        path.write_text(text + "\n")
        path.chmod(0o600)
        return read_env_file(path.read_text())

    def service(
        self, host: str, unit_name: str, extra: dict[str, str] | None = None, module: str | None = None
    ) -> None:
        command, env = unit(unit_name).process(self.env_file, Path(sys.executable).parent)
        if module is not None:
            command = [sys.executable, "-m", module]
        base = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT / "src")}
        self.spawn(host, command, base | env | (extra or {}))

    def spawn(self, host: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.logs / f"{host}.log", "ab")  # noqa: SIM115 (the child owns it)
        process = subprocess.Popen(
            [*self.host(host).exec_prefix(), *command],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.processes.setdefault(host, []).append(process)

    def start_api(self) -> None:
        self.service("api", "terrace-api.service")

    def start_worker(self, name: str) -> None:
        extra = {"TMPDIR": str(self.worker_tmp[name])}
        self.service(name, "terrace-worker@.service", extra, self.options.worker_module)

    def scale(self, workers: int) -> None:
        """Run workers on the first `workers` worker hosts only."""
        for name in self.worker_names:
            running = any(p.poll() is None for p in self.processes.get(name, []))
            if self.worker_names.index(name) < workers and not running:
                self.start_worker(name)
            elif self.worker_names.index(name) >= workers and running:
                self.terminate(name)
        deadline = time.monotonic() + 120
        while len(self.live_workers()) != workers:
            assert time.monotonic() < deadline, f"workers: {self.live_workers()}"
            time.sleep(0.2)

    def terminate(self, host: str, timeout: float = 15) -> None:
        """Stop the services the harness started on a host, as systemd would (SIGTERM, then kill)."""
        processes = self.processes.pop(host, [])
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def kill_host(self, name: str) -> list[int]:
        """kill -9 every process of a host (its power cut); the harness forgets them."""
        killed = self.host(name).kill_all()
        for process in self.processes.pop(name, []):
            process.wait(timeout=10)
        return killed

    def wait_ready(self, timeout: float = 120) -> None:
        wait_http(f"{self.api_url}/readyz", accept={200}, timeout=timeout)
        deadline = time.monotonic() + timeout
        while len(self.live_workers()) < len(self.worker_names):
            assert time.monotonic() < deadline, f"workers not registered: {self.live_workers()}"
            time.sleep(0.2)

    @contextmanager
    def db(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        with psycopg.connect(self.owner_url(), autocommit=True, row_factory=dict_row) as conn:
            yield conn

    def live_workers(self) -> list[str]:
        with self.db() as conn:
            rows = conn.execute(
                "SELECT DISTINCT hostname FROM app.workers WHERE stopped_at IS NULL "
                "AND last_seen_at > now() - interval '10 seconds' ORDER BY 1"
            ).fetchall()
        return [r["hostname"] for r in rows]

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, timeout=60, headers={"Authorization": f"Bearer {self.admin_key}"}
        )

    def tail(self, host: str, lines: int = 40) -> str:
        path = self.logs / f"{host}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def wait_http(url: str, accept: set[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code in accept:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)
