"""Named queries kept in .sql files: blocks that start with a `-- name: <query>` line."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@cache
def queries(module: str) -> dict[str, str]:
    """The queries of terrace/db/sql/<module>.sql by name."""
    text = resources.files("terrace.db.sql").joinpath(f"{module}.sql").read_text()
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
