"""Roles, ordered: each one includes the rights of those before it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from terrace.db.models.auth import ROLES
from terrace.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    reader = "reader"
    submitter = "submitter"
    reviewer = "reviewer"
    admin = "admin"

    @property
    def rank(self) -> int:
        return ROLES.index(self.value)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the holder of an API key, or the subject of an OIDC token."""

    key_id: str | None  # None for an OIDC token, whose `sub` is the name
    name: str
    role: Role

    def has(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def actor(self) -> str:
        """How audit rows and job events name this caller."""
        return f"oidc:{self.name}" if self.key_id is None else f"{self.name} ({self.key_id})"


def require_role(principal: Principal | None, role: Role, what: str) -> Principal:
    """The caller, who must hold `role` (or a higher one) to use `what` ("this endpoint" ...)."""
    if principal is None:
        raise Unauthenticated(
            f"{what[:1].upper()}{what[1:]} needs an API key or OIDC token with the {role.value} role.",
            "Send `Authorization: Bearer <key or token>`.",
        )
    if not principal.has(role):
        raise Forbidden(
            f"Your credential has the {principal.role.value} role; {what} needs {role.value}.",
            f"Ask an admin for a key with the {role.value} role.",
        )
    return principal
