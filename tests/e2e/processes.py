"""Real `terrace api` and worker processes on a test database, configured by environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from terrace.db.cluster import free_port
from terrace.db.roles import RoleUrls

ROOT = Path(__file__).resolve().parents[2]


def environment(databases: RoleUrls, storage_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TERRACE_", "PROMETHEUS_"))}
    return env | {
        "PYTHONPATH": str(ROOT / "src"),
        "TERRACE_APP_DATABASE_URL": databases.app,
        "TERRACE_SERVING_DATABASE_URL": databases.serving,
        "TERRACE_PREVIEW_DATABASE_URL": databases.preview,
        "TERRACE_STORAGE_URL": storage_root.as_uri(),
        **extra,
    }


@contextmanager
def running(*commands: tuple[list[str], dict[str, str], Path]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Each (arguments of `python -m`, environment, log file) as a process, stopped at the end."""
    processes = []
    try:
        for arguments, env, log in commands:
            with open(log, "ab") as output:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", *arguments], env=env, cwd=ROOT, stdout=output, stderr=output
                    )
                )
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def api_command(env: dict[str, str], log: Path) -> tuple[tuple[list[str], dict[str, str], Path], str]:
    port = free_port()
    return (["terrace", "api"], env | {"TERRACE_PORT": str(port)}, log), f"http://127.0.0.1:{port}"


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the API process exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout} s")
