"""Roles, ordered: each one includes the rights of those before it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from terrace.db.models.auth import ROLES


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
    """An authenticated caller."""

    key_id: str
    name: str
    role: Role

    def has(self, role: Role) -> bool:
        return self.role.rank >= role.rank
