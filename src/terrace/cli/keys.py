"""`terrace keys create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from terrace.auth import Role, create_key, list_keys, revoke_key
from terrace.cli.context import database_url, friendly_errors
from terrace.db.pool import connect

app = typer.Typer(help="API keys (stored hashed) and their roles.", no_args_is_help=True)


@app.command()
@friendly_errors
def create(
    role: Annotated[Role, typer.Option(help="reader, submitter, reviewer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
) -> None:
    """Create a key and print it once; only its hash is stored."""
    with connect(database_url()) as conn:
        key_id, key = create_key(conn, name, role)
    typer.echo(f"key_id: {key_id}\nrole:   {role.value}\nkey:    {key}")


@app.command("list")
@friendly_errors
def list_() -> None:
    """List keys (never their secrets)."""
    with connect(database_url()) as conn:
        for row in list_keys(conn):
            state = "revoked" if row["revoked_at"] else "active"
            typer.echo(f"{row['key_id']}  {row['role']:<9}  {state:<7}  {row['name']}")


@app.command()
@friendly_errors
def revoke(key_id: str) -> None:
    """Revoke a key by its id; it stops working at once."""
    with connect(database_url()) as conn:
        revoke_key(conn, key_id)
    typer.echo(f"Revoked {key_id}.")
