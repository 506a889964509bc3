"""A write-only file for writers that push bytes (Parquet, CSV), drained after each batch so
that a response streams what was written while memory holds one batch's output."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class Drain(io.RawIOBase):
    """Collects what is written until `take` hands it over."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        """Everything written since the last take."""
        taken, self._parts = b"".join(self._parts), []
        return taken
