"""The shared SQLAlchemy metadata and the declarations for SQL functions and triggers."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

NOW = sa.text("now()")


def created_at() -> sa.Column:
    return sa.Column("created_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW)


def updated_at() -> sa.Column:
    return sa.Column("updated_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW)


@dataclass(frozen=True)
class SqlFunction:
    """A function defined by one file in terrace/db/sql (CREATE OR REPLACE FUNCTION ...)."""

    schema: str
    name: str
    signature: str  # argument types as PostgreSQL prints them, e.g. "text, integer"
    file: str

    @property
    def regprocedure(self) -> str:
        return f"{self.schema}.{self.name}({self.signature})"


@dataclass(frozen=True)
class Trigger:
    """A row trigger: `timing` is e.g. "BEFORE UPDATE"."""

    name: str
    table: sa.Table
    function: SqlFunction
    timing: str
