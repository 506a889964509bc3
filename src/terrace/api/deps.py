"""FastAPI dependencies: the pool, storage, CoreMachine, job defaults, and the authenticated
principal with its role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from terrace.auth import Principal, Role, require_role, verify_key
from terrace.db import pool as db
from terrace.errors import Unauthenticated
from terrace.orchestration.machine import CoreMachine
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


Pool = Annotated[db.Pool, Depends(get_pool)]
StorageDep = Annotated[Storage, Depends(get_storage)]
Machine = Annotated[CoreMachine, Depends(get_machine)]
Defaults = Annotated[JobDefaults, Depends(get_job_defaults)]


def current_principal(request: Request, pool: Pool) -> Principal | None:
    """The caller named by `Authorization: Bearer <key>`, None when anonymous."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "The Authorization header must be `Bearer <api key>`.",
            "Send `Authorization: Bearer <key>`; create keys with `terrace keys create`.",
        )
    with pool.connection() as conn:
        principal = verify_key(conn, token.strip())
    if principal is None:
        raise Unauthenticated("The API key is unknown or revoked.", "Ask an admin for a valid key.")
    return principal


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers holding `role` (or a higher one)."""

    def dependency(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        return require_role(principal, role, "this endpoint")

    return dependency
