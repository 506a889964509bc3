"""Serving: Terrace's /features (tipg behind the visibility rule) against standalone tipg.

Builds a served table of 1,000,000 seeded points (what approval leaves in `geo`, with its
`geo.table_catalog` row), then runs the same bounded load against both servers, one uvicorn
process each, on the same database in the same run:

- feature pages: /collections/{id}/items?limit=1000&bbox=<random 2°x2° box inside the data>;
- vector tiles: /collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}, z 6-12, over the data.

Reports p50/p95 latency and requests/s with 8 requests in flight.

    .venv/bin/python bench/serving.py [--points 1000000] [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import morecantile
import numpy as np
import psycopg
from terrace_jobs import bench_cluster, print_result, role_env

from terrace.catalog.relations import grant_serving

TABLE = "bench_points_v1"
EXTENT = (95.0, -11.0, 141.0, 6.0)  # the Indonesian archipelago
IN_FLIGHT = 8


def build_table(url: str, points: int) -> None:
    """A served table as approval leaves it: identity key, MULTIPOINT geometry, GiST, catalog row."""
    west, south, east, north = EXTENT
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL(
                "CREATE TABLE geo.{} (objectid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "name text, depth double precision, geom geometry(MultiPoint, 4326))"
            ).format(psycopg.sql.Identifier(TABLE))
        )
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            psycopg.sql.SQL(
                "INSERT INTO geo.{} (name, depth, geom) SELECT 'site ' || i, random() * 5, "
                "ST_Multi(ST_SetSRID(ST_MakePoint(%s + random() * %s, %s + random() * %s), 4326)) "
                "FROM generate_series(1, %s) AS i"
            ).format(psycopg.sql.Identifier(TABLE)),
            (west, east - west, south, north - south, points),
        )
        conn.execute(
            psycopg.sql.SQL("CREATE INDEX ON geo.{} USING gist (geom)").format(psycopg.sql.Identifier(TABLE))
        )
        grant_serving(conn, TABLE)  # as approval does
        # VACUUM too, so that no autovacuum of the fresh table runs during one server's turn.
        conn.execute(psycopg.sql.SQL("VACUUM ANALYZE geo.{}").format(psycopg.sql.Identifier(TABLE)))
        conn.execute(
            "INSERT INTO geo.table_catalog (schema_name, table_name, title, bbox, feature_count, "
            "geometry_type, srid, access_level) "
            "VALUES ('geo', %s, 'Benchmark points', %s, %s, 'MULTIPOINT', 4326, 'public')",
            (TABLE, list(EXTENT), points),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], base: str, collection: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/collections/{collection}", timeout=5).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"{command} did not serve {TABLE} within a minute")


def feature_pages(collection: str, rng: random.Random, count: int) -> list[str]:
    west, south, east, north = EXTENT
    paths = []
    for _ in range(count):
        x, y = rng.uniform(west, east - 2), rng.uniform(south, north - 2)
        paths.append(
            f"/collections/{collection}/items?limit=1000&bbox={x:.4f},{y:.4f},{x + 2:.4f},{y + 2:.4f}"
        )
    return paths


def tiles(collection: str, rng: random.Random, count: int) -> list[str]:
    tms = morecantile.tms.get("WebMercatorQuad")
    west, south, east, north = EXTENT
    paths = []
    for _ in range(count):
        z = rng.randint(6, 12)
        tile = tms.tile(rng.uniform(west, east), rng.uniform(south, north), z)
        paths.append(f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{tile.x}/{tile.y}")
    return paths


async def load(base: str, paths: list[str]) -> tuple[list[float], float]:
    """Latency of each request of `paths` (s) and the wall time, IN_FLIGHT requests at a time."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            response = await http.get(base + path)
            latencies.append(time.perf_counter() - started)
            if response.status_code not in (200, 204):
                raise SystemExit(f"{base + path}: {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


Server = tuple[str, str, str]  # name, base URL, collection id
Workload = Callable[[str, random.Random, int], list[str]]


def compare(servers: list[Server], make: Workload, count: int) -> list[float]:
    """Requests/s of each server; the load runs in two halves in alternating order, so that
    neither server always runs first (cold caches, background work)."""
    latencies: dict[str, list[float]] = {name: [] for name, _, _ in servers}
    seconds = dict.fromkeys(latencies, 0.0)
    for _, base, collection in servers:
        asyncio.run(load(base, make(collection, random.Random(1), 20)))  # warm catalogs and pools
    for half, order in enumerate((servers, servers[::-1])):
        for name, base, collection in order:
            taken, elapsed = asyncio.run(load(base, make(collection, random.Random(7 + half), count // 2)))
            latencies[name] += taken
            seconds[name] += elapsed
    rates = []
    for name, _, _ in servers:
        p50, p95 = np.percentile(np.array(latencies[name]) * 1000, [50, 95])
        rates.append(len(latencies[name]) / seconds[name])
        print(f"  {name:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {rates[-1]:7.1f} req/s", flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400, help="Requests per workload and server.")
    args = parser.parse_args()
    servers: list[subprocess.Popen[bytes]] = []
    ratios = {}
    with bench_cluster() as (cluster, url, home):
        try:
            build_table(url, args.points)
            ours, theirs = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
            storage = (home / "storage").as_uri()
            terrace_env = dict(os.environ, **role_env(url), TERRACE_STORAGE_URL=storage)
            terrace = [sys.executable, "-m", "terrace", "api", "--port", ours.rsplit(":", 1)[1]]
            servers.append(start(terrace, terrace_env, f"{ours}/features", TABLE))
            tipg_env = dict(os.environ, DATABASE_URL=url, TIPG_DB_SCHEMAS='["geo"]')
            tipg = [sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", theirs.rsplit(":", 1)[1]]
            # tipg names its collections schema.table
            servers.append(start(tipg, tipg_env, theirs, f"geo.{TABLE}"))
            load = f"{args.points:,} points served; {IN_FLIGHT} requests in flight"
            print(f"machine: {os.cpu_count()} cores; {load}")
            workloads = (("features", "feature pages (limit 1000, 2° bbox)", feature_pages),
                         ("tiles", "vector tiles z6-12", tiles))  # fmt: skip
            for case, workload, make in workloads:
                print(workload)
                pair = [("terrace /features (visibility rule)", f"{ours}/features", TABLE)]
                pair.append(("tipg standalone", theirs, f"geo.{TABLE}"))
                rate, peer = compare(pair, make, args.requests)
                ratios[case] = (rate, peer)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
    print_result("serving_{case}_req_per_s", "req/s", "tipg-standalone", ratios)


if __name__ == "__main__":
    main()
