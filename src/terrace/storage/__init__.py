"""Object storage: named containers (bronze, silver) under one root URL."""

from terrace.storage.paths import validate_container, validate_path
from terrace.storage.store import Storage

__all__ = ["Storage", "validate_container", "validate_path"]
