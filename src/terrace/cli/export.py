"""`terrace export`: a served vector version downloaded to a file, streamed, with progress."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from terrace.cli.client import make_client, raise_for_error
from terrace.cli.context import friendly_errors


@friendly_errors
def export(
    dataset: Annotated[str, typer.Argument(help="dataset_id, e.g. floods.")],
    resource: Annotated[str, typer.Argument(help="resource_id, e.g. jakarta.")],
    output: Annotated[Path, typer.Option(dir_okay=False, help="The file to write.")],
    version: Annotated[str, typer.Option(help="A version id such as v1, or latest.")] = "latest",
    format: Annotated[str, typer.Option(help="parquet, csv, fgb or gpkg.")] = "parquet",
    part: Annotated[str | None, typer.Option(help="One table of a geometry split: point, line ...")] = None,
) -> None:
    """Download a served version as GeoParquet, CSV, FlatGeobuf or GeoPackage into OUTPUT
    (written as OUTPUT.part, renamed when complete)."""
    params = {"format": format, **({"part": part} if part else {})}
    url = f"/api/platform/catalog/{dataset}/{resource}/{version}/export"
    partial = output.with_name(output.name + ".part")
    columns = (TextColumn("{task.description}"), DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn())
    with make_client() as client, client.stream("GET", url, params=params, timeout=None) as response:
        if response.is_error:
            response.read()
            raise_for_error(response)
        length = response.headers.get("content-length")
        with Progress(*columns) as progress, partial.open("wb") as out:
            bar = progress.add_task(output.name, total=int(length) if length else None)
            for chunk in response.iter_bytes():
                out.write(chunk)
                progress.advance(bar, len(chunk))
    partial.replace(output)
    typer.echo(f"{output} ({output.stat().st_size:,} bytes)")
