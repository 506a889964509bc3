"""Health of every component (database, schema, storage, workers, queue) as `/api/health` reports it
to admins; everyone else reads only the overall status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrace.db.database import database_drift, pgstac_version
from terrace.db.pool import Pool, fetch_one
from terrace.db.queries import queries
from terrace.storage import Storage

Check = Callable[[], dict[str, Any]]


def check_health(pool: Pool, database_url: str, storage: Storage) -> dict[str, Any]:
    """Each component's status (ok, warning, error) and details; the worst one is the overall."""
    checks: dict[str, Check] = {
        "database": lambda: _database(pool),
        "schema": lambda: _schema(database_url),
        "storage": lambda: _storage(storage),
        "workers": lambda: _workers(pool),
        "queue": lambda: _queue(pool),
    }
    components = {name: _run(check) for name, check in checks.items()}
    statuses = {c["status"] for c in components.values()}
    overall = "error" if "error" in statuses else "warning" if "warning" in statuses else "ok"
    return {"status": overall, "components": components}


def overall(report: dict[str, Any]) -> dict[str, Any]:
    """The report as anyone may read it: the overall status, no versions, paths or URLs."""
    return {"status": report["status"]}


def _run(check: Check) -> dict[str, Any]:
    try:
        return check()
    except Exception as exc:  # a health report describes failures instead of raising them
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _database(pool: Pool) -> dict[str, Any]:
    with pool.connection(timeout=5) as conn:
        versions = fetch_one(conn, queries("health")["versions"])
        pgstac = pgstac_version(conn)
    missing = [name for name, value in (("postgis", versions["postgis"]), ("pgstac", pgstac)) if not value]
    return {
        "status": "error" if missing else "ok",
        "postgres": versions["postgres"],
        "postgis": versions["postgis"],
        "pgstac": pgstac,
        **({"missing": missing} if missing else {}),
    }


def _schema(database_url: str) -> dict[str, Any]:
    differences = [str(d) for d in database_drift(database_url)]
    return {"status": "error" if differences else "ok", "drift": differences}


def _storage(storage: Storage) -> dict[str, Any]:
    for container in storage.containers:
        storage.round_trip(container)
    return {"status": "ok", "root": storage.root_url, "containers": list(storage.containers)}


def _workers(pool: Pool) -> dict[str, Any]:
    with pool.connection(timeout=5) as conn:
        seen = fetch_one(conn, queries("health")["workers_seen"])["seen"]
    return {"status": "ok" if seen else "warning", "seen": seen}


def _queue(pool: Pool) -> dict[str, Any]:
    with pool.connection(timeout=5) as conn:
        depth = fetch_one(conn, queries("health")["queue"])
    return {
        "status": "ok",
        "queued": depth["queued"],
        "running": depth["running"],
        "oldest_queued_seconds": round(float(depth["oldest_queued_seconds"]), 1),
    }
