"""Submit: upload a file to bronze and check the submission (dry run), then submit it for processing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from terrace.auth import Principal, Role
from terrace.catalog import identity
from terrace.dependencies import Defaults, Machine, Pool, StorageDep, UploadLimit
from terrace.errors import InvalidInput, TerraceError
from terrace.platform.requests import ProcessingOptions, SubmitRequest
from terrace.platform.sidecars import is_shapefile, sidecar_name
from terrace.platform.submit import submit_release
from terrace.storage import Storage
from terrace.web.forms import invalid_input
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/submit")
Submitter = Annotated[Principal, Depends(needs(Role.submitter))]
CHUNK = 1024 * 1024
FIELDS = ("dataset_id", "resource_id", "access_level", "granted_roles", "title", "version_id", "options")


@router.get("")
def form(request: Request, user: User) -> Response:
    return render(request, "submit.html", user=user, values={"access_level": "ouo"})


@router.post("/check")
async def check(
    request: Request,
    pool: Pool,
    machine: Machine,
    storage: StorageDep,
    defaults: Defaults,
    upload_limit: UploadLimit,
    user: Submitter,
    file: Annotated[list[UploadFile], File()],
) -> Response:
    """Upload the file(s) to bronze and validate the submission (a dry run); nothing else is
    created. Several rasters make a collection; a .shp's sidecar files go beside it."""
    values: dict[str, Any] = {**await _values(request), "paths": [], "sidecars": []}
    try:
        names = [_name(one) for one in file]
        shapefiles = [name for name in names if is_shapefile(name)]
        for one, name in zip(file, names, strict=True):
            beside = next(filter(None, (sidecar_name(shp, name) for shp in shapefiles)), None)
            path = await _upload(storage, upload_limit, values, one, beside or name)
            values["sidecars" if beside else "paths"].append(path)
        outcome = await run_in_threadpool(
            submit_release, pool, machine, storage, defaults, _request(values), user, dry_run=True
        )
    except TerraceError as exc:
        return render(request, "submit.html", status_code=400, user=user, values=values, error=exc)
    return render(request, "submit.html", user=user, values=values, checked=outcome.submission)


@router.post("/live")
async def live(
    request: Request,
    pool: Pool,
    machine: Machine,
    storage: StorageDep,
    defaults: Defaults,
    user: Submitter,
    path: Annotated[list[str], Form()],
) -> Response:
    """Submit the checked, uploaded file(s) for processing and follow its job."""
    values: dict[str, Any] = {**await _values(request), "paths": path}
    try:
        outcome = await run_in_threadpool(
            submit_release, pool, machine, storage, defaults, _request(values), user
        )
    except TerraceError as exc:
        return render(request, "submit.html", status_code=400, user=user, values=values, error=exc)
    assert outcome.receipt is not None  # only a dry run has none
    return RedirectResponse(f"/interface/jobs/{outcome.receipt.job_id}", status_code=303)


async def _values(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {name: str(form.get(name, "")) for name in FIELDS}


def _name(file: UploadFile) -> str:
    name = (file.filename or "").rsplit("/", 1)[-1]
    if not name:
        raise InvalidInput("No file was chosen.", "Choose the file to publish.")
    return name


async def _upload(storage: Storage, limit: int, values: dict[str, Any], file: UploadFile, name: str) -> str:
    """The uploaded file in bronze as `name`, under the dataset and resource it is submitted as."""
    dataset = identity.normalize_slug(values["dataset_id"], "dataset_id")
    resource = identity.normalize_slug(values["resource_id"], "resource_id")

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK):
            yield chunk

    path = f"{dataset}/{resource}/{name}"
    await storage.upload("bronze", path, chunks(), limit)
    return path


def _request(values: dict[str, Any]) -> SubmitRequest:
    try:
        options = json.loads(values["options"]) if values["options"].strip() else {}
        return SubmitRequest(
            dataset_id=values["dataset_id"],
            resource_id=values["resource_id"],
            file_name=values["paths"] if len(values["paths"]) > 1 else values["paths"][0],
            access_level=values["access_level"] or "ouo",
            granted_roles=values["granted_roles"].split(),
            title=values["title"] or None,
            version_id=values["version_id"] or None,
            processing_options=ProcessingOptions.model_validate(options),
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"Processing options are not JSON: {exc}.", 'Write them as {"layer": "roads"}.'
        ) from None
    except ValidationError as exc:
        raise invalid_input(exc) from None
