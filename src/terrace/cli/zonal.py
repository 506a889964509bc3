"""`terrace zonal`: exact zonal statistics of a served raster as a new draft release."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors
from terrace.cli.platform import follow, summary


def release_ref(text: str) -> dict[str, Any]:
    """`dataset/resource` or `dataset/resource@version` as the request names a release."""
    name, _, version = text.partition("@")
    dataset, slash, resource = name.partition("/")
    if not slash or not dataset or not resource:
        raise typer.BadParameter(f"{text!r} is not DATASET/RESOURCE[@VERSION].")
    return {"dataset_id": dataset, "resource_id": resource, "version_id": version or None}


@friendly_errors
def zonal(
    raster: Annotated[str, typer.Option(help="The raster release: DATASET/RESOURCE[@VERSION].")],
    output: Annotated[
        str, typer.Option(help="The asset the statistics become a draft of: DATASET/RESOURCE.")
    ],
    stat: Annotated[list[str], typer.Option(help="A statistic: mean, sum, count, frac ... (repeatable).")],
    grid: Annotated[str | None, typer.Option(help="Zones: the cells of this H3 grid ...")] = None,
    resolution: Annotated[int | None, typer.Option(help="... at this resolution.")] = None,
    zones: Annotated[
        str | None, typer.Option(help="Zones: a polygon release, DATASET/RESOURCE[@VERSION].")
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(help="Weights of the weighted_* statistics: a raster, DATASET/RESOURCE[@VERSION]."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title of the statistics' release.")] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until processing ends.")] = True,
) -> None:
    """Compute exact zonal statistics of a served raster over an H3 grid or polygons, and follow
    the job to awaiting approval."""
    if (grid is None) == (zones is None) or (grid is not None and resolution is None):
        raise typer.BadParameter("Give either --grid with --resolution, or --zones.")
    target = release_ref(output)
    body = {
        "raster": release_ref(raster),
        "zones": {"h3_grid": grid, "resolution": resolution} if grid else release_ref(zones or ""),
        "stats": stat,
        "output": {"dataset_id": target["dataset_id"], "resource_id": target["resource_id"], "title": title},
    }
    if weights is not None:
        body["weights"] = release_ref(weights)
    with make_client() as client:
        submitted = call(client, "POST", "/api/analytics/zonal", json=body)
        typer.echo(f"request_id: {submitted['request_id']}\nrelease_id: {submitted['release_id']}")
        if wait:
            status = follow(client, submitted["request_id"])
            summary(status)
            if status["job"]["status"] == "failed":
                raise typer.Exit(1)
