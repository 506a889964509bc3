"""Storage over obstore: one object store per container, local folders by default."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import obstore
from obstore.exceptions import NotFoundError as ObjectNotFound
from obstore.store import LocalStore, ObjectStore, from_url

from terrace.errors import NotFound, PayloadTooLarge
from terrace.observability.metrics import BYTES_INGESTED
from terrace.storage.paths import validate_container, validate_path

DEFAULT_CONTAINERS = ("bronze", "silver")


class Storage:
    """Containers under one root URL: file:///srv/terrace, s3://bucket/prefix, az://..., gs://..."""

    def __init__(self, root_url: str, containers: tuple[str, ...] = DEFAULT_CONTAINERS) -> None:
        self.root_url = root_url.rstrip("/")
        self.containers = tuple(validate_container(c) for c in containers)
        parsed = urlparse(self.root_url)
        self.local_root = Path(parsed.path) if parsed.scheme == "file" else None
        self._stores: dict[str, ObjectStore] = {}

    @classmethod
    def local(cls, folder: Path) -> Storage:
        return cls(folder.resolve().as_uri())

    def create_containers(self) -> None:
        """Create the container folders of local storage (cloud containers exist already)."""
        if self.local_root is not None:
            for container in self.containers:
                (self.local_root / container).mkdir(parents=True, exist_ok=True)

    def store(self, container: str) -> ObjectStore:
        if container not in self.containers:
            raise NotFound(
                f"Storage container {container!r} does not exist.",
                f"Use one of: {', '.join(self.containers)}.",
            )
        if container not in self._stores:
            if self.local_root is not None:
                self._stores[container] = LocalStore(self.local_root / container, automatic_cleanup=True)
            else:
                self._stores[container] = from_url(f"{self.root_url}/{container}")
        return self._stores[container]

    def local_path(self, container: str, path: str) -> Path | None:
        """The file behind an object on local storage (for GDAL); None for cloud storage."""
        if self.local_root is None:
            return None
        return self.local_root / validate_container(container) / validate_path(path)

    @contextmanager
    def local_copy(self, container: str, path: str) -> Iterator[Path]:
        """A local file with the object's content (and, for a .shp, its sibling files).

        Local storage hands out the file itself; cloud objects are downloaded to a temporary
        folder that disappears afterwards.
        """
        local = self.local_path(container, path)
        if local is not None:
            if not local.is_file():
                raise NotFound(
                    f"No object {path!r} in container {container!r}.",
                    "Upload the file first with PUT /api/storage/{container}/{path}.",
                )
            yield local
            return
        stem = path.rsplit(".", 1)[0]
        names = (
            [path]
            if not path.lower().endswith(".shp")
            else [
                item["path"] for batch in obstore.list(self.store(container), prefix=stem) for item in batch
            ]
        )
        with tempfile.TemporaryDirectory(prefix="terrace-") as folder:
            for name in names:
                (Path(folder) / Path(name).name).write_bytes(self.get(container, name))
            yield Path(folder) / Path(path).name

    def put(self, container: str, path: str, data: bytes | Path) -> None:
        obstore.put(self.store(container), validate_path(path), data)

    def get(self, container: str, path: str) -> bytes:
        try:
            return obstore.get(self.store(container), validate_path(path)).bytes().to_bytes()
        except (ObjectNotFound, FileNotFoundError) as exc:
            raise NotFound(
                f"No object {path!r} in container {container!r}.",
                "Check the path, or upload the file first with PUT /api/storage/{container}/{path}.",
            ) from exc

    def sha256(self, container: str, path: str) -> str:
        """Content digest of an object, streamed (never read whole into memory)."""
        digest = hashlib.sha256()
        try:
            for chunk in obstore.get(self.store(container), validate_path(path)).stream():
                digest.update(chunk)
        except (ObjectNotFound, FileNotFoundError) as exc:
            raise NotFound(
                f"No object {path!r} in container {container!r}.",
                "Upload the file first with PUT /api/storage/{container}/{path}.",
            ) from exc
        return digest.hexdigest()

    def exists(self, container: str, path: str) -> bool:
        try:
            obstore.head(self.store(container), validate_path(path))
        except (ObjectNotFound, FileNotFoundError):
            return False
        return True

    def delete(self, container: str, path: str) -> None:
        """Make sure the object is gone (deleting a missing one is no error, as in S3)."""
        with contextlib.suppress(FileNotFoundError):
            obstore.delete(self.store(container), validate_path(path))

    def delete_folder(self, container: str, prefix: str) -> None:
        """Delete every object under `prefix/`."""
        store = self.store(container)
        folder = validate_path(prefix).rstrip("/") + "/"
        for batch in obstore.list(store, prefix=folder):
            obstore.delete(store, [item["path"] for item in batch])

    async def upload(self, container: str, path: str, chunks: AsyncIterable[bytes], max_bytes: int) -> int:
        """Stream chunks into an object, refusing more than max_bytes; nothing stays on failure."""
        store, path = self.store(container), validate_path(path)
        received = 0

        async def limited() -> AsyncIterator[bytes]:
            nonlocal received
            async for chunk in chunks:
                received += len(chunk)
                if received > max_bytes:
                    raise PayloadTooLarge(
                        f"Upload exceeds the limit of {max_bytes} bytes.",
                        "Split the data, or ask an operator to raise TERRACE_UPLOAD_MAX_BYTES.",
                    )
                yield chunk

        await obstore.put_async(store, path, limited())
        BYTES_INGESTED.labels(container).inc(received)
        return received

    def round_trip(self, container: str) -> None:
        """Write, read back and delete a probe object; raises if any step fails."""
        path = f"_health/{uuid.uuid4().hex}"
        payload = b"terrace health probe"
        self.put(container, path, payload)
        try:
            if self.get(container, path) != payload:
                raise OSError(f"Probe object read back differently from container {container!r}.")
        finally:
            self.delete(container, path)
