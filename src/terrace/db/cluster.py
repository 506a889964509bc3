"""The embedded PostgreSQL+PostGIS cluster that `terrace up` keeps under its home folder.

PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` user and
its data directory lives in /var/lib/terrace/clusters (a place that user can reach even when the
home folder sits inside root's home); `<home>/pg` is a symlink to it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from terrace.errors import SetupError

SUPERUSER = "terrace"
ROOT_CLUSTERS = Path("/var/lib/terrace/clusters")
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "max_wal_size": "2GB",
    "log_min_messages": "warning",
}
# For throwaway test clusters only: trade crash safety for speed.
NON_DURABLE_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_bindir() -> Path:
    """The newest PostgreSQL (15 or later) server binaries on this machine."""
    override = os.environ.get("TERRACE_PG_BINDIR")
    candidates = [Path(override)] if override else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists():
            return bindir
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise SetupError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found.",
        "Install them with `apt-get install postgresql-15-postgis-3` (scripts/setup does this), "
        "or set TERRACE_DATABASE_URL to an existing database.",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCluster:
    """A PostgreSQL cluster owned by one Terrace home folder."""

    def __init__(self, home: Path, *, durable: bool = True, bindir: Path | None = None) -> None:
        self.home = home
        self.durable = durable
        self.bindir = bindir or find_bindir()
        self.as_root = os.geteuid() == 0
        self.link = home / "pg"
        self.password_file = home / "pg-password"

    @property
    def data_dir(self) -> Path:
        if not self.as_root:
            return self.link
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:16]
        return ROOT_CLUSTERS / digest

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def initialize(self) -> None:
        """Run initdb with a generated superuser password, once."""
        if self.initialized() and not self.password_file.exists():
            # The home folder that owned this cluster was deleted: its cluster goes with it.
            self.destroy()
        if self.initialized():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        self._prepare_data_dir()
        with tempfile.NamedTemporaryFile("w", dir=self.data_dir.parent, delete=False) as pwfile:
            pwfile.write(password + "\n")
        try:
            self._hand_over(Path(pwfile.name))
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                pwfile.name,
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            )
        finally:
            os.unlink(pwfile.name)
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)
        settings = dict(SERVER_SETTINGS, unix_socket_directories=f"'{self.data_dir}'")
        if not self.durable:
            settings.update(NON_DURABLE_SETTINGS)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def running(self) -> bool:
        result = self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return result.returncode == 0

    def start(self) -> bool:
        """Start the cluster unless it already runs; True when this call started it."""
        self.initialize()
        if self.running():
            return False
        log = self.data_dir / "postgres.log"
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(log),
            "-w",
            "-t",
            "120",
            "-o",
            f"-p {free_port()}",
        )
        return True

    def restart(self) -> None:
        """Restart the running cluster on the same port (clients reconnect to the same URL)."""
        log = self.data_dir / "postgres.log"
        self._run(
            "pg_ctl", "restart", "-D", str(self.data_dir), "-l", str(log), "-m", "fast", "-w", "-t", "120"
        )

    def stop(self) -> None:
        if self.initialized() and self.running():
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")

    def destroy(self) -> None:
        """Stop the cluster and delete its data directory."""
        if self.initialized():
            self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.link.is_symlink():
            self.link.unlink()

    def create_database(self, name: str) -> None:
        """Create database `name` in the running cluster unless it exists."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def port(self) -> int:
        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        return int(lines[3])

    def url(self, dbname: str = "terrace") -> str:
        password = quote(self.password_file.read_text().strip(), safe="")
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port()}/{dbname}"

    def _prepare_data_dir(self) -> None:
        if not self.as_root:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            return
        ROOT_CLUSTERS.mkdir(parents=True, exist_ok=True)
        for folder in (ROOT_CLUSTERS.parent, ROOT_CLUSTERS):
            folder.chmod(0o755)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._hand_over(self.data_dir)
        if self.link.is_symlink() or self.link.exists():
            self.link.unlink()
        self.link.symlink_to(self.data_dir)

    def _hand_over(self, path: Path) -> None:
        if self.as_root:
            shutil.chown(path, "postgres", "postgres")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise SetupError(
                f"{tool} failed: {(result.stderr or result.stdout).strip()}",
                f"See {self.data_dir / 'postgres.log'} for the server's own log.",
            )
        return result
