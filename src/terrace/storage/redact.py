"""Server paths out of what users read: an object's location becomes `container/path`, a
temporary file its name. Logs keep the full text for operators."""

from __future__ import annotations

import re
import tempfile
from typing import Any, TypeVar

from terrace.storage.store import Storage

T = TypeVar("T")


def redact(value: T, storage: Storage) -> T:
    """`value` (a string, or JSON of them) with every server path made storage-relative."""
    roots = [storage.root_url] + [str(r) for r in (storage.local_root, storage.gdal_root) if r]
    # Storage roots first: local storage may itself live in the temporary folder.
    pattern = re.compile(
        "|".join(
            [f"(?:{re.escape(root)}/)" for root in roots]
            + [rf"(?:(?:file://)?{re.escape(tempfile.gettempdir())}/(?:[^\s'\"/]+/)*)"]
        )
    )
    return _walk(value, pattern)


def _walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub("", value)
    if isinstance(value, dict):
        return {key: _walk(item, pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, pattern) for item in value]
    return value
