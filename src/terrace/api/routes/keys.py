"""Admin API over API keys: list them (never their secrets) and revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from terrace.api.deps import require
from terrace.auth import Principal, Role, list_keys, revoke_key
from terrace.dependencies import Pool

router = APIRouter(prefix="/api/admin/keys", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Role.admin))]


class KeyInfo(BaseModel):
    key_id: str
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get("")
def keys(pool: Pool, _: Admin) -> list[KeyInfo]:
    """Every key: name, role, created, expires, last used, revoked."""
    with pool.connection() as conn:
        return [KeyInfo.model_validate(row) for row in list_keys(conn)]


@router.delete("/{key_id}", status_code=204)
def revoke(key_id: str, pool: Pool, _: Admin) -> None:
    """Revoke a key; it stops working at once, and the web sessions signed in with it end."""
    with pool.connection() as conn:
        revoke_key(conn, key_id)
