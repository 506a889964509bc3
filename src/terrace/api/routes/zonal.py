"""Zonal statistics (SPEC §13): a raster release summarised over zones, as a new draft release."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from terrace.analytics.zonal.params import ZonalRequest
from terrace.analytics.zonal.submit import submit_zonal
from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import Defaults, Machine, Pool

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
Submitter = Annotated[Principal, Depends(require(Role.submitter))]


@router.post("/zonal", status_code=202)
def zonal(
    body: ZonalRequest,
    response: Response,
    pool: Pool,
    machine: Machine,
    defaults: Defaults,
    principal: Submitter,
) -> dict[str, Any]:
    """Compute exact zonal statistics of a served raster release over the cells of an H3 grid or
    the polygons of a served vector release; the result is a draft release of `output`, reviewed
    and served like any other. The same request again answers 200 with what the first created."""
    receipt = submit_zonal(pool, machine, body, principal, defaults.zonal_chunk_size)
    if not receipt.created:
        response.status_code = 200
    return receipt.model_dump()
