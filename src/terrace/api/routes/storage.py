"""Upload: stream a file into a bronze container."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import StorageDep
from terrace.errors import Forbidden, InvalidInput, PayloadTooLarge
from terrace.storage import validate_path

router = APIRouter(prefix="/api/storage", tags=["storage"])
UPLOAD_CONTAINERS = ("bronze",)


@router.put("/{container}/{path:path}", status_code=201)
async def upload(
    container: str,
    path: str,
    request: Request,
    storage: StorageDep,
    _: Annotated[Principal, Depends(require(Role.submitter))],
) -> dict[str, Any]:
    """Store the request body as `path` in `container`; the size limit applies while streaming."""
    if container not in UPLOAD_CONTAINERS:
        raise Forbidden(
            f"Uploads go to {', '.join(UPLOAD_CONTAINERS)}; {container!r} is written by Terrace only.",
            "PUT the file to /api/storage/bronze/<path>.",
        )
    validate_path(path)
    limit = request.app.state.upload_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidInput("Content-Length is not a number.", "Send a valid Content-Length header.")
        if int(declared) > limit:
            raise PayloadTooLarge(
                f"Upload of {declared} bytes exceeds the limit of {limit} bytes.",
                "Split the data, or ask an operator to raise TERRACE_UPLOAD_MAX_BYTES.",
            )
    size = await storage.upload(container, path, request.stream(), limit)
    return {"container": container, "path": path, "size": size}
