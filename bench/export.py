"""Exports: Terrace's streamed export of a served table against the usual ways to dump it.

Builds a served table of N seeded points (1,000,000 by default) with a few attributes, then
exports it, each tool in its own process, interleaved in the same run:

- FlatGeobuf: Terrace (`terrace.exports`, as the export route runs it after the visibility check,
  read as the serving role) vs `ogr2ogr -f FlatGeobuf PG:... table`;
- GeoParquet: Terrace vs geopandas (`read_postgis` then `to_parquet`; GDAL here has no Parquet
  driver).

Prints features/s, MB/s of output and the peak RSS of each process (GNU time's maximum resident
set, so not the benchmark's own memory); the RESULT line compares features/s.

    .venv/bin/python bench/export.py [--points 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from terrace_jobs import bench_cluster, print_result, role_env

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import TABLE, build_table  # noqa: E402

TERRACE = """
import sys
from terrace.exports import FORMATS, describe, export_table
url, name, target = sys.argv[1:4]
with open(target, "wb") as out:
    for chunk in export_table(url, describe(url, "geo", "{table}"), FORMATS[name]).chunks:
        out.write(chunk)
"""
GEOPANDAS = """
import sys, geopandas, sqlalchemy
url, target = sys.argv[1:3]
engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
geopandas.read_postgis('SELECT * FROM geo."{table}"', engine, geom_col="geom").to_parquet(target)
"""


def timed(command: list[str], target: Path, points: int) -> tuple[float, float, float]:
    """(features/s, MB/s of the output file, peak RSS in MB) of one process."""
    target.unlink(missing_ok=True)
    memory = target.with_suffix(".rss")
    started = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(memory), *command], check=True, stdout=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    size = target.stat().st_size / 1024**2
    return points / seconds, size / seconds, int(memory.read_text().split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with bench_cluster() as (_, url, home):
        build_table(url, args.points)
        serving = role_env(url)["TERRACE_SERVING_DATABASE_URL"]
        python = [sys.executable, "-c"]
        cases = {
            "fgb": (
                [*python, TERRACE.format(table=TABLE), serving, "fgb", str(home / "t.fgb")],
                home / "t.fgb",
                ["ogr2ogr", "-f", "FlatGeobuf", "-lco", "SPATIAL_INDEX=NO", str(home / "p.fgb")],
                home / "p.fgb",
            ),
            "parquet": (
                [*python, TERRACE.format(table=TABLE), serving, "parquet", str(home / "t.parquet")],
                home / "t.parquet",
                [*python, GEOPANDAS.format(table=TABLE), url, str(home / "p.parquet")],
                home / "p.parquet",
            ),
        }
        cases["fgb"][2].extend([f"PG:{url}", f"geo.{TABLE}"])
        best: dict[str, tuple[float, float]] = {}
        for round_ in range(args.rounds):
            for case, (ours, ours_file, peer, peer_file) in cases.items():
                mine = timed(ours, ours_file, args.points)
                theirs = timed(peer, peer_file, args.points)
                print(
                    f"round {round_ + 1} {case}: terrace {mine[0]:,.0f} features/s {mine[1]:.1f} MB/s "
                    f"(peak RSS {mine[2]:.0f} MB) | peer {theirs[0]:,.0f} features/s {theirs[1]:.1f} MB/s "
                    f"(peak RSS {theirs[2]:.0f} MB)",
                    flush=True,
                )
                previous = best.get(case, (0.0, 0.0))
                best[case] = (max(previous[0], mine[0]), max(previous[1], theirs[0]))
        print_result("export_{case}_features_per_s", "features/s", "ogr2ogr(fgb)/geopandas(parquet)", best)


if __name__ == "__main__":
    main()
