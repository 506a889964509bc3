"""What an API process holds for its routes and the web UI's pages, as FastAPI dependencies: the
pool, storage, CoreMachine, the job defaults, the upload limit, the outbound policy, the database URLs
(the application's, the serving role's) and the OpenID provider trusted."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from terrace.auth.oidc import Oidc
from terrace.db import pool as db
from terrace.orchestration.machine import CoreMachine
from terrace.outbound import OutboundPolicy
from terrace.platform.processing import JobDefaults
from terrace.storage import Storage


def get_pool(request: Request) -> db.Pool:
    return request.app.state.pool


def get_storage(request: Request) -> Storage:
    return request.app.state.storage


def get_machine(request: Request) -> CoreMachine:
    return request.app.state.machine


def get_job_defaults(request: Request) -> JobDefaults:
    return request.app.state.job_defaults


def get_upload_limit(request: Request) -> int:
    return request.app.state.upload_max_bytes


def get_outbound(request: Request) -> OutboundPolicy:
    return request.app.state.outbound


def get_database_url(request: Request) -> str:
    return request.app.state.database_url


def get_serving_database_url(request: Request) -> str:
    return request.app.state.serving_database_url


def get_oidc(request: Request) -> Oidc | None:
    return request.app.state.oidc


Pool = Annotated[db.Pool, Depends(get_pool)]
StorageDep = Annotated[Storage, Depends(get_storage)]
Machine = Annotated[CoreMachine, Depends(get_machine)]
Defaults = Annotated[JobDefaults, Depends(get_job_defaults)]
UploadLimit = Annotated[int, Depends(get_upload_limit)]
DatabaseUrl = Annotated[str, Depends(get_database_url)]
ServingDatabaseUrl = Annotated[str, Depends(get_serving_database_url)]
Outbound = Annotated[OutboundPolicy, Depends(get_outbound)]
OidcDep = Annotated[Oidc | None, Depends(get_oidc)]
