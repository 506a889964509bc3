"""`terrace keys create|list|revoke`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from terrace.auth import Role, create_key, list_keys
from terrace.auth.keys import revoke_named
from terrace.cli.context import database_url, friendly_errors
from terrace.db.pool import connect
from terrace.errors import InvalidInput

app = typer.Typer(help="API keys (stored hashed), their roles and expiry.", no_args_is_help=True)

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@app.command()
@friendly_errors
def create(
    role: Annotated[Role, typer.Option(help="reader, submitter, reviewer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime such as 90m, 12h, 30d or 8w; unset: until revoked.")
    ] = None,
    expires_at: Annotated[
        datetime | None, typer.Option(help="Expiry as an ISO date/time (UTC unless it names a zone).")
    ] = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    expiry = _expiry(expires_in, expires_at)
    with connect(database_url()) as conn:
        key_id, key = create_key(conn, name, role, expiry)
    typer.echo(
        f"key_id:  {key_id}\nrole:    {role.value}\nexpires: {_when(expiry) or 'never'}\nkey:     {key}"
    )


@app.command("list")
@friendly_errors
def list_() -> None:
    """List keys: name, role, created, expires, last used, revoked (never their secrets)."""
    with connect(database_url()) as conn:
        rows = list_keys(conn)
    typer.echo(
        f"{'KEY ID':<12}  {'ROLE':<9}  "
        + "  ".join(f"{heading:<16}" for heading in ("CREATED", "EXPIRES", "LAST USED", "REVOKED"))
        + "  NAME"
    )
    for row in rows:
        dates = (row["created_at"], row["expires_at"], row["last_used_at"], row["revoked_at"])
        columns = "  ".join(f"{_when(date) or '-':<16}" for date in dates)
        typer.echo(f"{row['key_id']:<12}  {row['role']:<9}  {columns}  {row['name']}")


@app.command()
@friendly_errors
def revoke(name: Annotated[str, typer.Argument(help="The key's name, or its key id.")]) -> None:
    """Revoke a key by its name (or id); it stops working at once."""
    with connect(database_url()) as conn:
        key_id = revoke_named(conn, name)
    typer.echo(f"Revoked {key_id}.")


def _expiry(expires_in: str | None, expires_at: datetime | None) -> datetime | None:
    if expires_in is not None and expires_at is not None:
        raise InvalidInput("Give --expires-in or --expires-at, not both.", "Drop one of them.")
    if expires_at is not None:
        return expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    if expires_in is None:
        return None
    match = re.fullmatch(r"(\d+)([mhdw])", expires_in.strip())
    if match is None or int(match[1]) == 0:
        raise InvalidInput(
            f"--expires-in {expires_in!r} is not a lifetime.",
            "Write a number and a unit: 90m, 12h, 30d or 8w.",
        )
    return datetime.now(UTC) + timedelta(**{_UNITS[match[2]]: int(match[1])})


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else None
