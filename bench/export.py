"""Exports: Terrace's streamed export of a served table against the usual ways to dump it.

Builds a served table of N seeded points (1,000,000 by default) with a few attributes, then
exports it, each tool in its own process, interleaved in the same run:

- FlatGeobuf: Terrace (`terrace.exports`, as the export route runs it after the visibility check,
  read as the serving role) vs `ogr2ogr -f FlatGeobuf PG:... table`;
- GeoParquet: Terrace vs geopandas (`read_postgis` then `to_parquet`; GDAL here has no Parquet
  driver).

Prints MB/s of output and the peak RSS of each process.

    .venv/bin/python bench/export.py [--points 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
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


def timed(command: list[str], target: Path) -> tuple[float, float]:
    """(MB/s of the output file, peak RSS in MB) of one process."""
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[:3]} failed")
    return target.stat().st_size / 1024**2 / seconds, usage.ru_maxrss / 1024


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
                mine, mine_rss = timed(ours, ours_file)
                theirs, theirs_rss = timed(peer, peer_file)
                print(
                    f"round {round_ + 1} {case}: terrace {mine:.1f} MB/s (peak RSS {mine_rss:.0f} MB, "
                    f"{ours_file.stat().st_size / 1024**2:.0f} MB) | peer {theirs:.1f} MB/s "
                    f"(peak RSS {theirs_rss:.0f} MB, {peer_file.stat().st_size / 1024**2:.0f} MB)",
                    flush=True,
                )
                previous = best.get(case, (0.0, 0.0))
                best[case] = (max(previous[0], mine), max(previous[1], theirs))
        print_result("export_{case}_mb_per_s", "MB/s", "ogr2ogr(fgb)/geopandas(parquet)", best)


if __name__ == "__main__":
    main()
