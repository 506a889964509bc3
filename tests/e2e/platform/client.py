"""A client's view of the Platform API for lifecycle tests: upload, submit, wait, review."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import bearer

DONE = {"awaiting_approval", "completed", "failed", "cancelled"}


def upload(api: httpx.Client, key: str, file: Path, path: str) -> None:
    response = api.put(f"/api/storage/bronze/{path}", content=file.read_bytes(), headers=bearer(key))
    assert response.status_code == 201, response.text


def submit(api: httpx.Client, key: str, path: str | list[str], **extra: Any) -> httpx.Response:
    body = {
        "dataset_id": "floods",
        "resource_id": "jakarta",
        "file_name": path,
        "access_level": "public",
        **extra,
    }
    return api.post("/api/platform/submit", json=body, headers=bearer(key))


def wait_done(api: httpx.Client, key: str, request_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/api/platform/status/{request_id}", headers=bearer(key)).json()
        if status["job"]["status"] in DONE:
            return status
        time.sleep(0.3)
    raise AssertionError(f"job still running: {status}")


def served_tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'geo' "
            "AND table_name LIKE 'floods_jakarta%' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def latest(api: httpx.Client, key: str) -> str:
    return api.get("/api/platform/catalog/floods/jakarta/latest", headers=bearer(key)).json()["version_id"]


def approve(api: httpx.Client, key: str, release_id: str, **extra: Any) -> httpx.Response:
    return api.post("/api/platform/approve", json={"release_id": release_id, **extra}, headers=bearer(key))
