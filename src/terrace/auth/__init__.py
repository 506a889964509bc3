"""Who is calling: API keys (stored hashed) or OIDC tokens, and the roles they carry."""

from terrace.auth.keys import create_key, list_keys, register_key, revoke_key, verify_key
from terrace.auth.roles import Principal, Role, require_role

__all__ = [
    "Principal",
    "Role",
    "create_key",
    "list_keys",
    "register_key",
    "require_role",
    "revoke_key",
    "verify_key",
]
