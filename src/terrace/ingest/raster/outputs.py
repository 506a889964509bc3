"""Outputs appear whole or not at all: written under a staging name, then renamed into place."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import obstore

from terrace.storage import Storage


@contextmanager
def staged(storage: Storage, container: str, path: str, tag: str) -> Iterator[Path]:
    """A local file to write; when the block succeeds it becomes object `path`, else nothing stays.

    On local storage the file is written inside the container under the staging name, so the
    final rename moves no bytes; on cloud storage it is uploaded under the staging name first.
    The rename replaces an object a retried task wrote before, so a retry never duplicates.
    """
    staging = f"{path}.staging-{tag}"
    local = storage.local_path(container, staging)
    try:
        if local is not None:
            local.parent.mkdir(parents=True, exist_ok=True)
            yield local
        else:
            with tempfile.TemporaryDirectory(prefix="terrace-raster-") as folder:
                written = Path(folder) / Path(path).name
                yield written
                storage.put(container, staging, written)
        obstore.rename(storage.store(container), staging, path)
    except BaseException:
        remove(storage, container, staging)
        raise


def remove(storage: Storage, container: str, path: str) -> None:
    """Delete an object if it exists."""
    if storage.exists(container, path):
        storage.delete(container, path)


def object_url(storage: Storage, container: str, path: str) -> str:
    """The URL GDAL and STAC clients read the object by (file://, s3://, az://, gs://)."""
    return f"{storage.root_url}/{container}/{path}"
