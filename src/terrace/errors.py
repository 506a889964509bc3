"""The one exception hierarchy: every error says what went wrong and how to fix it."""

from __future__ import annotations


class TerraceError(Exception):
    """Base of all errors a user can see. `code` is stable; `remediation` says what to do."""

    code = "TERRACE_ERROR"

    def __init__(self, message: str, remediation: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "remediation": self.remediation}


class InvalidInput(TerraceError):
    """The request or its data is wrong; the user can fix it."""

    code = "INVALID_INPUT"


class NotFound(TerraceError):
    code = "NOT_FOUND"


class Conflict(TerraceError):
    """The request clashes with the current state (duplicate, immutable, busy)."""

    code = "CONFLICT"


class PayloadTooLarge(TerraceError):
    code = "PAYLOAD_TOO_LARGE"


class Unauthenticated(TerraceError):
    code = "UNAUTHENTICATED"


class Forbidden(TerraceError):
    code = "FORBIDDEN"


class Unavailable(TerraceError):
    """A component the request needs (database, storage) is not reachable."""

    code = "UNAVAILABLE"


class SetupError(TerraceError):
    """The local installation cannot do what was asked (missing binary, bad permissions)."""

    code = "SETUP_ERROR"
