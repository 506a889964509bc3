"""The least-privilege database roles each process connects with, created and granted by `ensure`.

- owner: whoever runs `ensure` (the cluster superuser of the embedded default, the admin login
  of a managed server): schema changes and migrations only.
- `terrace_app`: the API and the workers. Not a superuser, so no file or large-object functions.
- `terrace_serving`: `/features`, `/stac`, `/tiles`. Reads the served schema and pgSTAC only,
  under a statement timeout.
- `terrace_preview`: reviewers' draft previews. Reads the drafts and their catalog rows only.

Roles belong to the cluster, grants to each database: `ensure` creates the roles once (without
login) and grants in every database it runs on. `enable_logins` gives them passwords, for
deployments (like the embedded default) where Terrace manages its own credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from terrace.db.pool import Connection, connect
from terrace.db.queries import queries
from terrace.errors import SetupError

APP_ROLE = "terrace_app"
SERVING_ROLE = "terrace_serving"
PREVIEW_ROLE = "terrace_preview"
ROLES = (APP_ROLE, SERVING_ROLE, PREVIEW_ROLE)
# A served request that runs longer than this is cancelled by the database itself.
READ_ROLE_TIMEOUT = "30s"


@dataclass(frozen=True)
class RoleUrls:
    """Where each kind of process connects: the application, the serving APIs, draft previews."""

    app: str
    serving: str
    preview: str


def ensure_roles(url: str, model_tables: list[str]) -> list[str]:
    """Create the roles that are missing and (re)grant each its privileges in this database.

    `model_tables` are the model-owned tables of `geo`, which stay with the owner.
    """
    done = []
    q = queries("roles")
    with connect(url) as conn:
        existing = {row["rolname"] for row in conn.execute(q["existing_roles"], {"names": list(ROLES)})}
        for role in ROLES:
            if role not in existing:
                _create_role(conn, role)
                done.append(f"created role {role}")
        for role in (SERVING_ROLE, PREVIEW_ROLE):
            conn.execute(
                sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
                    sql.Identifier(role), sql.Literal(READ_ROLE_TIMEOUT)
                )
            )
        for grants in ("grant_app", "grant_serving", "grant_preview", "restrict_connect"):
            conn.execute(q[grants])
        foreign = conn.execute(q["foreign_runtime_relations"], {"model_tables": model_tables})
        for relation in foreign.fetchall():
            keyword = sql.SQL("VIEW" if relation["kind"] == "v" else "TABLE")
            target = sql.Identifier(relation["schema_name"], relation["name"])
            conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(keyword, target, sql.Identifier(APP_ROLE)))
            done.append(f"handed {relation['schema_name']}.{relation['name']} to {APP_ROLE}")
    return done


def enable_logins(url: str, passwords: dict[str, str]) -> RoleUrls:
    """Let the roles log in with these passwords (given as the owner); returns their URLs."""
    with connect(url, autocommit=True) as conn:
        for role in ROLES:
            conn.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(passwords[role])
                )
            )
    return login_urls(url, passwords)


def login_urls(url: str, passwords: dict[str, str]) -> RoleUrls:
    """The roles' URLs: the owner URL's host and database, each role's name and password."""
    return RoleUrls(*(role_url(url, role, passwords[role]) for role in ROLES))


def role_url(url: str, role: str, password: str) -> str:
    """`url` with another user and password."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _create_role(conn: Connection, role: str) -> None:
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return  # another ensure created it meanwhile
    except psycopg.errors.InsufficientPrivilege as exc:
        raise SetupError(
            f"The owner role may not create role {role}.",
            "Run `terrace db ensure` as a user with CREATEROLE (the server's admin login), "
            f"or have an administrator run CREATE ROLE {role} NOLOGIN first.",
        ) from exc
