"""Vector ingest end to end: process_vector through CoreMachine against ogr2ogr and geopandas.

Generates (seeded) a 1,000,000-point and a 200,000-polygon GeoPackage with ten typed attribute
columns, loads each into the same database with three methods and reports features/s:

- terrace: job submitted → table loaded, indexed, analyzed (2 worker processes x concurrency 2);
- ogr2ogr -f PostgreSQL with PG_USE_COPY=YES and a GiST index, then ANALYZE;
- geopandas.read_file + to_postgis, then a GiST index and ANALYZE;
- the raw COPY ceiling: the loaded rows copied out and back in over one connection.

Terrace and ogr2ogr take turns `--repeat` times (who goes first alternates; each round's tables
are dropped before the next) and the medians are compared, because the machine may be shared;
geopandas and the COPY ceiling run in the first round only.

    .venv/bin/python bench/vector_ingest.py [--points 1000000] [--polygons 200000] [--repeat 3]
        [--chunk-size N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import geopandas
import numpy as np
import psycopg
import pyarrow as pa
import pyogrio
import shapely
import sqlalchemy
from terrace_jobs import Timed, bench_cluster, print_result, run_job

from terrace.catalog import identity
from terrace.db.cluster import LocalCluster
from terrace.ingest.vector.params import VectorParams
from terrace.storage import Storage


def attributes(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    """Ten typed columns."""
    return {
        "code": pa.array(rng.integers(0, 1000, n, dtype=np.int32)),
        "population": pa.array(rng.integers(0, 10**9, n, dtype=np.int64)),
        "depth_m": pa.array(rng.uniform(0, 5, n)),
        "risk": pa.array(rng.uniform(0, 1, n).astype(np.float32)),
        "flooded": pa.array(rng.random(n) < 0.3),
        "name": pa.array(np.char.add("site ", rng.integers(0, 10**6, n).astype(str))),
        "district": pa.array(rng.choice(["north", "south", "east", "west", "centre"], n)),
        "surveyed": pa.array(rng.integers(0, 20_000, n).astype("datetime64[D]")),
        "updated": pa.array(rng.integers(0, 1.7e9, n).astype("datetime64[s]")),
        "source_id": pa.array(rng.integers(0, 2**31, n, dtype=np.int64)),
    }


def generate(path: Path, n: int, polygons: bool) -> Path:
    rng = np.random.default_rng(42 if polygons else 7)
    geoms = shapely.points(rng.uniform(95, 141, n), rng.uniform(-11, 6, n))
    if polygons:
        geoms = shapely.buffer(geoms, rng.uniform(0.001, 0.01, n), quad_segs=4)
    table = pa.table({**attributes(rng, n), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table,
        path,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Polygon" if polygons else "Point",
        crs="EPSG:4326",
    )
    return path


def terrace(url: str, storage: Storage, file: Path, resource: str, chunk_size: int) -> Timed:
    """process_vector on 2 worker processes x concurrency 2, from submit to completion; it loads
    geo_draft.bench_{resource}_ord1."""
    storage.put("bronze", f"bench/{file.name}", file)
    params = {
        "path": f"bench/{file.name}",
        "dataset_id": "bench",
        "resource_id": resource,
        "release_id": identity.release_id(identity.asset_id("bench", resource), "bench"),
        "version_ordinal": 1,
        "access_level": "public",
        "chunk_size": chunk_size,
    }
    return run_job(url, storage, "process_vector", params, workers=2, concurrency=2)


def ogr2ogr(cluster: LocalCluster, database: str, file: Path, table: str) -> float:
    password = cluster.password_file.read_text().strip()
    target = f"PG:host=127.0.0.1 port={cluster.port()} dbname={database} user=terrace password={password}"
    started = time.perf_counter()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            target,
            str(file),
            "-nln",
            f"public.{table}",
            "-nlt",
            "PROMOTE_TO_MULTI",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "SPATIAL_INDEX=GIST",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        check=True,
    )
    _analyze(cluster.url(database), table)
    return time.perf_counter() - started


def geopandas_to_postgis(url: str, file: Path, table: str) -> float:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    started = time.perf_counter()
    frame = geopandas.read_file(file, engine="pyogrio", use_arrow=True)
    frame.to_postgis(table, engine, index=False, chunksize=100_000)
    with psycopg.connect(url) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE INDEX ON {} USING gist (geometry)").format(psycopg.sql.Identifier(table))
        )
    _analyze(url, table)
    engine.dispose()
    return time.perf_counter() - started


def copy_ceiling(url: str, source: str) -> float:
    """Rows of a loaded table copied out to memory, then timed back in with one COPY."""
    buffer = io.BytesIO()
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            psycopg.sql.SQL("COPY {} TO STDOUT").format(psycopg.sql.Identifier("geo_draft", source))
        ) as copy:
            for data in copy:
                buffer.write(data)
        conn.execute(
            psycopg.sql.SQL("CREATE TABLE ceiling (LIKE {})").format(
                psycopg.sql.Identifier("geo_draft", source)
            )
        )
        started = time.perf_counter()
        with conn.cursor().copy("COPY ceiling FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE ceiling")
    return elapsed


def _analyze(url: str, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(table)))


def settle(url: str) -> None:
    """Leave no background work from earlier loads (autovacuum, dirty buffers) to the next method."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM")
        conn.execute("CHECKPOINT")


def measure(name: str, url: str, features: int, run: Callable[[], float]) -> float:
    settle(url)
    rate = features / run()
    print(f"  {name:<28} {rate:12,.0f} features/s", flush=True)
    return rate


def drop_tables(url: str) -> None:
    """Drop the tables of a round: Terrace's draft and the peers' tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('public', 'geo_draft') "
            "AND (tablename LIKE 'bench\\_%' OR tablename ~ '^[og]_')"
        ).fetchall()
        for schema, table in rows:
            conn.execute(psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(schema, table)))


def rounds(
    cluster: LocalCluster,
    url: str,
    storage: Storage,
    file: Path,
    kind: str,
    count: int,
    repeat: int,
    chunk_size: int,
) -> tuple[float, float]:
    """Median features/s of Terrace and of ogr2ogr over `repeat` alternating rounds."""
    ours, theirs, rss = [], [], 0.0
    for turn in range(repeat):

        def run_terrace(turn: int = turn) -> float:
            timed = terrace(url, storage, file, f"t{turn}_{kind}", chunk_size)
            nonlocal rss
            rss = max(rss, timed.peak_rss_mb)
            print(f"    {timed.stages}")
            return timed.seconds

        methods = [
            ("terrace process_vector", run_terrace, ours),
            ("ogr2ogr (PG_USE_COPY)", partial(ogr2ogr, cluster, "bench", file, f"o_{kind}"), theirs),
        ]
        for name, run, rates in methods if turn % 2 == 0 else methods[::-1]:
            rates.append(measure(f"{name} #{turn + 1}", url, count, run))
        if turn == 0:
            measure("geopandas.to_postgis", url, count, partial(geopandas_to_postgis, url, file, f"g_{kind}"))
            loaded = identity.draft_table_base("bench", f"t0_{kind}", 1)
            measure("raw COPY ceiling", url, count, partial(copy_ceiling, url, loaded))
        drop_tables(url)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(
        f"  median of {repeat}: terrace {ours_median:,.0f} features/s (worker peak RSS {rss:.0f} MB), "
        f"ogr2ogr {theirs_median:,.0f} features/s, ratio {ours_median / theirs_median:.2f}",
        flush=True,
    )
    return ours_median, theirs_median


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="Rounds of Terrace and ogr2ogr in turn.")
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=VectorParams.model_fields["chunk_size"].default,
        help="Features per task.",
    )
    args = parser.parse_args()
    ratios = {}
    with bench_cluster() as (cluster, url, home):
        storage = Storage.local(home / "storage")
        storage.create_containers()
        gdal = pyogrio.__gdal_version_string__
        print(f"machine: {os.cpu_count()} cores; durable PostgreSQL 15 cluster; GDAL {gdal}")
        for kind, count in (("points", args.points), ("polygons", args.polygons)):
            if not count:
                continue
            file = generate(home / f"{kind}.gpkg", count, polygons=kind == "polygons")
            print(f"{count:,} {kind} ({file.stat().st_size / 1e6:.0f} MB GeoPackage, 10 attribute columns)")
            ratios[kind] = rounds(cluster, url, storage, file, kind, count, args.repeat, args.chunk_size)
    print_result("vector_ingest_{case}_features_per_s", "features/s", "ogr2ogr", ratios)


if __name__ == "__main__":
    main()
