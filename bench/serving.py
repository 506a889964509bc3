"""Serving: Terrace's /features (tipg behind the visibility rule) against standalone tipg.

Builds a served table of 1,000,000 seeded points (what approval leaves in `geo`, with its
`geo.table_catalog` row), then runs the same bounded load against both servers, one uvicorn
process each, on the same database in the same run:

- feature pages: /collections/{id}/items?limit=1000&bbox=<random 2°x2° box inside the data>;
- vector tiles: /collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}, z 6-12, over the data;

each at equal encodings: both servers asked for gzip (`Accept-Encoding: gzip`), then both for
the identity (`identity`), each coding with random paths of its own. Reports p50/p95 latency,
requests/s with 8 requests in flight and the mean bytes sent. The servers' turns alternate (two
halves in opposite order), since the machine may be shared. Terrace keeps the tiles of approved
versions in memory (`TERRACE_TILE_CACHE_MB`), which helps where a workload asks for a tile again
(here low zooms, as on a map); the tiles also run against a second Terrace process with that
cache off, every tile made by a query as in tipg.

Then a caching client, honouring Cache-Control and ETag as a browser does, replays a map session
(tiles of the `_v1` table and of its `_latest` view at z9-10 around three places, feature pages of
`_latest`, the collection list) twice: the second time a day later on its clock. It reports the
share of the replayed requests answered from its cache or with 304 Not Modified.

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
from dataclasses import dataclass

import httpx
import morecantile
import numpy as np
import psycopg
from terrace_jobs import bench_cluster, print_result, role_env

from terrace.catalog.relations import grant_serving

TABLE = "bench_points_v1"
LATEST = "bench_points_latest"
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
        # The "latest" alias approval adds beside the version.
        conn.execute(
            psycopg.sql.SQL("CREATE VIEW geo.{} AS SELECT * FROM geo.{}").format(
                psycopg.sql.Identifier(LATEST), psycopg.sql.Identifier(TABLE)
            )
        )
        grant_serving(conn, LATEST)
        conn.execute(
            "INSERT INTO geo.table_catalog (schema_name, table_name, title, bbox, feature_count, "
            "geometry_type, srid, access_level, properties) "
            "SELECT 'geo', %s, title, bbox, feature_count, geometry_type, srid, access_level, "
            "jsonb_build_object('alias_of', table_name) FROM geo.table_catalog WHERE table_name = %s",
            (LATEST, TABLE),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], base: str, collection: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/collections/{collection}", timeout=5).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"{command} did not serve {TABLE} within three minutes")


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


async def load(base: str, paths: list[str], coding: str) -> tuple[list[float], float, int]:
    """Latency of each request of `paths` (s), the wall time and the bytes received, IN_FLIGHT
    requests at a time, each accepting `coding`."""
    latencies: list[float] = []
    received = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal received
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            async with http.stream("GET", base + path) as response:
                body = b"".join([chunk async for chunk in response.aiter_raw()])
            latencies.append(time.perf_counter() - started)
            received += len(body)
            if response.status_code not in (200, 204):
                raise SystemExit(f"{base + path}: {response.status_code} {body[:200]!r}")
            if response.headers.get("content-encoding", "identity") != coding and len(body) > 1024:
                raise SystemExit(f"{base + path}: sent {response.headers.get('content-encoding')}")

    async with httpx.AsyncClient(timeout=120, headers={"Accept-Encoding": coding}) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, received


Server = tuple[str, str, str]  # name, base URL, collection id
Workload = Callable[[str, random.Random, int], list[str]]


def compare(servers: list[Server], make: Workload, count: int, coding: str, seed: int) -> list[float]:
    """Requests/s of each server; the load runs in two halves in alternating order, so that
    neither server always runs first (cold caches, background work)."""
    latencies: dict[str, list[float]] = {name: [] for name, _, _ in servers}
    seconds = dict.fromkeys(latencies, 0.0)
    received = dict.fromkeys(latencies, 0)
    for _, base, collection in servers:
        asyncio.run(load(base, make(collection, random.Random(1), 20), coding))  # warm catalogs and pools
    for half, order in enumerate((servers, servers[::-1])):
        for name, base, collection in order:
            paths = make(collection, random.Random(seed + half), count // 2)
            taken, elapsed, size = asyncio.run(load(base, paths, coding))
            latencies[name] += taken
            seconds[name] += elapsed
            received[name] += size
    rates = []
    for name, _, _ in servers:
        p50, p95 = np.percentile(np.array(latencies[name]) * 1000, [50, 95])
        rates.append(len(latencies[name]) / seconds[name])
        mean_kb = received[name] / len(latencies[name]) / 1000
        print(
            f"  {name:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {rates[-1]:7.1f} req/s  {mean_kb:7.1f} kB",
            flush=True,
        )
    return rates


@dataclass
class Stored:
    etag: str | None
    fresh_until: float  # on the client's clock


class BrowserCache:
    """What a browser's HTTP cache does with Cache-Control and ETag, on a clock of its own."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.stored: dict[str, Stored] = {}
        self.now = 0.0

    async def get(self, url: str) -> str:
        """`cache` (not sent), `304` (revalidated) or `full`."""
        stored = self.stored.get(url)
        if stored is not None and self.now < stored.fresh_until:
            return "cache"
        headers = {"If-None-Match": stored.etag} if stored is not None and stored.etag else {}
        response = await self.http.get(url, headers=headers)
        directives = {d.strip().partition("=")[0]: d.strip().partition("=")[2]
                      for d in response.headers.get("cache-control", "").split(",")}  # fmt: skip
        max_age = 0.0 if "no-cache" in directives else float(directives.get("max-age") or 0)
        if response.status_code == 304 and stored is not None:
            stored.fresh_until = self.now + max_age
            return "304"
        if response.status_code not in (200, 204):
            raise SystemExit(f"{url}: {response.status_code}")
        if "no-store" not in directives:
            self.stored[url] = Stored(response.headers.get("etag"), self.now + max_age)
        return "full"


def map_session(table: str, latest: str) -> list[str]:
    """What a map page asks for: the collection list, tiles of a version and of `_latest` around
    three places at two zooms, and feature pages of `_latest` there."""
    tms = morecantile.tms.get("WebMercatorQuad")
    paths = ["/collections"]
    for lon, lat in ((106.8, -6.2), (115.2, -8.6), (124.8, 1.5)):
        for z in (9, 10):
            centre = tms.tile(lon, lat, z)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for name in (table, latest):
                        paths.append(
                            f"/collections/{name}/tiles/WebMercatorQuad/{z}/{centre.x + dx}/{centre.y + dy}"
                        )
        paths.append(
            f"/collections/{latest}/items?limit=100&bbox={lon - 0.2},{lat - 0.2},{lon + 0.2},{lat + 0.2}"
        )
    return paths


async def replay(base: str, paths: list[str], later: float) -> tuple[float, dict[str, int]]:
    """The session twice, the second time `later` seconds on: the share of the second pass
    answered from the cache or with 304, and how its requests were answered."""
    async with httpx.AsyncClient(timeout=120, headers={"Accept-Encoding": "gzip"}) as http:
        cache = BrowserCache(http)
        for path in paths:
            await cache.get(base + path)
        cache.now += later
        outcomes = {"cache": 0, "304": 0, "full": 0}
        for path in paths:
            outcomes[await cache.get(base + path)] += 1
    return (outcomes["cache"] + outcomes["304"]) / len(paths) * 100, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400, help="Requests per workload and server.")
    args = parser.parse_args()
    servers: list[subprocess.Popen[bytes]] = []
    ratios = {}
    shares: dict[str, float] = {}
    with bench_cluster() as (cluster, url, home):
        try:
            build_table(url, args.points)
            ours, theirs = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
            storage = (home / "storage").as_uri()
            terrace_env = dict(os.environ, **role_env(url), TERRACE_STORAGE_URL=storage)
            terrace = [sys.executable, "-m", "terrace", "api", "--port", ours.rsplit(":", 1)[1]]
            servers.append(start(terrace, terrace_env, f"{ours}/features", TABLE))
            uncached = f"http://127.0.0.1:{free_port()}"
            plain = [*terrace[:-1], uncached.rsplit(":", 1)[1]]
            servers.append(
                start(plain, {**terrace_env, "TERRACE_TILE_CACHE_MB": "0"}, f"{uncached}/features", TABLE)
            )
            tipg_env = dict(os.environ, DATABASE_URL=url, TIPG_DB_SCHEMAS='["geo"]')
            tipg = [sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", theirs.rsplit(":", 1)[1]]
            # tipg names its collections schema.table
            servers.append(start(tipg, tipg_env, theirs, f"geo.{TABLE}"))
            load = f"{args.points:,} points served; {IN_FLIGHT} requests in flight"
            print(f"machine: {os.cpu_count()} cores, shared: servers' turns interleaved; {load}")
            workloads = (("features", "feature pages (limit 1000, 2° bbox)", feature_pages),
                         ("tiles", "vector tiles z6-12", tiles))  # fmt: skip
            for case, workload, make in workloads:
                for seed, coding in ((7, "gzip"), (17, "identity")):
                    print(f"{workload}, both {coding}")
                    pair = [("terrace /features (visibility rule)", f"{ours}/features", TABLE)]
                    if case == "tiles":
                        pair.append(("terrace, tile cache off", f"{uncached}/features", TABLE))
                    pair.append(("tipg standalone", theirs, f"geo.{TABLE}"))
                    rate, *others, peer = compare(pair, make, args.requests, coding, seed)
                    ratios[f"{case}_{coding}"] = (rate, peer)
                    if others:
                        ratios[f"{case}_uncached_{coding}"] = (others[0], peer)
            later = 86400.0
            print("map session replayed a day later by a caching client (gzip)")
            for name, base, table, latest in (
                ("terrace", f"{ours}/features", TABLE, LATEST),
                ("tipg-standalone", theirs, f"geo.{TABLE}", f"geo.{LATEST}"),
            ):
                shares[name], outcomes = asyncio.run(replay(base, map_session(table, latest), later))
                print(f"  {name:<44} {shares[name]:5.1f} % from cache or 304  {outcomes}", flush=True)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
    ours_share, peer_share = shares["terrace"], shares["tipg-standalone"]
    ratio = f"{ours_share / peer_share:.2f}" if peer_share else "inf"
    print(
        f"RESULT name=serving_replay_cached_share value={ours_share:.1f} unit=% peer=tipg-standalone "
        f"peer_value={peer_share:.1f} ratio={ratio}"
    )
    for case, (rate, peer) in ratios.items():
        print(
            f"RESULT name=serving_{case}_req_per_s value={rate:.1f} unit=req/s peer=tipg-standalone "
            f"peer_value={peer:.1f} ratio={rate / peer:.2f}"
        )
    print_result("serving_{case}_req_per_s", "req/s", "tipg-standalone", ratios)


if __name__ == "__main__":
    main()
