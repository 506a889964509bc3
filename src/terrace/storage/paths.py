"""Validation of container names and object paths before they reach storage."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from terrace.errors import InvalidInput

CONTAINER = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_PATH_LENGTH = 1024
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")


def validate_container(name: str) -> str:
    if not CONTAINER.match(name):
        raise InvalidInput(
            f"Invalid container name {name!r}.",
            "Use 2-63 lowercase letters, digits or hyphens, e.g. 'bronze'.",
        )
    return name


def validate_path(path: str) -> str:
    """A relative object path that cannot escape its container."""
    remediation = "Use a relative path of '/'-separated names, e.g. 'floods/jakarta.gpkg'."
    if not path or len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(f"Object path must be 1-{MAX_PATH_LENGTH} characters long.", remediation)
    if path.startswith("/"):
        raise InvalidInput(f"Object path {path!r} is absolute.", remediation)
    if _FORBIDDEN_CHARACTERS.search(path):
        raise InvalidInput(f"Object path {path!r} contains a backslash or control character.", remediation)
    for segment in path.split("/"):
        if _disguised(segment) in ("", ".", ".."):
            raise InvalidInput(f"Object path {path!r} has an empty, '.' or '..' segment.", remediation)
        if _disguised(segment) != segment and re.search(r"[/\\]", _disguised(segment)):
            raise InvalidInput(f"Object path {path!r} has an encoded separator.", remediation)
    return path


def _disguised(segment: str) -> str:
    """What a segment may turn into further on: percent-decoded (twice, for a double encoding) and
    Unicode-normalized (fullwidth dots are dots to some systems)."""
    return unicodedata.normalize("NFKC", unquote(unquote(segment)))
