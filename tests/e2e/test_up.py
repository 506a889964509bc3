"""`terrace up` as a user runs it: a real cluster, API and worker processes, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from terrace.db.cluster import LocalCluster, free_port

USERS_OF_OTHER_CONNECTIONS = """
SELECT DISTINCT usename FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename IS NOT NULL
"""


def terrace(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "terrace", *args], env=env, capture_output=True, text=True, timeout=120
    )


class Up:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "terrace", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.banner: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.banner.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                return
        raise AssertionError("terrace up did not start:\n" + "\n".join(self.banner))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def up_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env |= {"TERRACE_HOME": str(home), "TERRACE_PORT": str(free_port()), "TERRACE_WORKERS": "1"}
    yield env
    LocalCluster(home).destroy()


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_up_serves_a_healthy_platform_and_sigterm_stops_everything(up_env: dict[str, str]) -> None:
    home = Path(up_env["TERRACE_HOME"])
    up = Up(up_env)
    try:
        base = f"http://127.0.0.1:{up_env['TERRACE_PORT']}"
        key = (home / "api_key").read_text().strip()
        health = httpx.get(f"{base}/api/health", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert health.json()["status"] == "ok", health.text
        assert health.json()["components"]["workers"]["seen"] == 1
        assert oct((home / "api_key").stat().st_mode & 0o777) == "0o600"
        assert any(key in line for line in up.banner)
        drift = httpx.get(f"{base}/api/admin/db/drift", headers={"Authorization": f"Bearer {key}"})
        assert drift.json()["in_sync"] is True

        created = terrace("keys", "create", "--role", "reader", "--name", "kept", env=up_env)
        assert created.returncode == 0, created.stderr
        cluster = LocalCluster(home)
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        httpx.get(f"{base}/features/collections", timeout=30).raise_for_status()
        with psycopg.connect(cluster.url()) as conn:
            worker_pids = [pid for (pid,) in conn.execute("SELECT pid FROM app.workers")]
            # The API and workers hold no owner connection: each connects as its own role.
            users = {user for (user,) in conn.execute(USERS_OF_OTHER_CONNECTIONS)}
        assert users == {"terrace_app", "terrace_serving", "terrace_preview"}
        assert oct((home / "db-roles.json").stat().st_mode & 0o777) == "0o600"
        # The public-zone API on the next port: only served data, as its read-only role.
        public = f"http://127.0.0.1:{int(up_env['TERRACE_PORT']) + 1}"
        assert httpx.get(f"{public}/features/collections", timeout=30).json()["collections"] == []
        assert httpx.get(f"{public}/api/health", timeout=30).status_code == 404
        with psycopg.connect(cluster.url("terrace_public")) as conn:
            assert {user for (user,) in conn.execute(USERS_OF_OTHER_CONNECTIONS)} == {"terrace_public_reader"}
        scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert "terrace_http_requests_total" in scraped.text and any((home / "metrics").iterdir())
        logged = (home / "logs" / "api.log").read_text().splitlines()
        assert logged and all(json.loads(line)["timestamp"] for line in logged)
    finally:
        code = up.stop()
    assert code == 0
    assert "Terrace stopped." in up.process.stdout.read()  # type: ignore[union-attr]
    assert worker_pids
    assert gone([postmaster, *worker_pids])

    (home / "metrics" / "left-behind.db").write_bytes(b"")
    second = Up(up_env)
    try:
        assert not (home / "metrics" / "left-behind.db").exists()  # counts start afresh
        listed = terrace("keys", "list", env=up_env)
        assert "kept" in listed.stdout
    finally:
        assert second.stop() == 0


def test_cli_reports_drift_with_its_exit_code(owner_database_url: str) -> None:
    database_url = owner_database_url
    env = dict(os.environ, TERRACE_DATABASE_URL=database_url)
    clean = terrace("db", "drift", env=env)
    assert clean.returncode == 0 and "No drift" in clean.stdout
    with psycopg.connect(database_url) as conn:
        conn.execute("ALTER TABLE app.workers DROP COLUMN stopped_at")
    drifted = terrace("db", "drift", env=env)
    assert drifted.returncode == 1
    assert "missing_column: app.workers.stopped_at" in drifted.stdout
    # the test database was cloned from a template made without the default schedules
    assert terrace("db", "ensure", env=env).stdout.splitlines() == [
        "added column app.workers.stopped_at",
        "added schedule nightly-check-catalog",
    ]
    refused = terrace("db", "rebuild", env=env)
    assert refused.returncode == 1 and "--yes" in refused.stderr


def test_cli_without_a_database_says_how_to_get_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env["TERRACE_HOME"] = str(tmp_path)
    result = terrace("keys", "list", env=env)
    assert result.returncode == 2
    assert "terrace up" in result.stderr
