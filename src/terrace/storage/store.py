"""Storage over obstore: one object store per container, local folders by default; GDAL reads
cloud objects by their /vsi paths with the same credentials."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import obstore
from obstore.exceptions import NotFoundError as ObjectNotFound
from obstore.store import LocalStore, ObjectStore, from_url

from terrace.errors import NotFound, PayloadTooLarge, SetupError
from terrace.observability.metrics import BYTES_INGESTED
from terrace.storage.azure import AzureAccount
from terrace.storage.paths import validate_container, validate_path

DEFAULT_CONTAINERS = ("bronze", "silver")
AZURE_SCHEMES = ("az", "azure", "abfs", "abfss", "adl")
# GDAL's virtual file systems of the URL schemes Terrace's storage takes.
GDAL_PREFIXES = {"s3": "/vsis3/", "gs": "/vsigs/", **{scheme: "/vsiaz/" for scheme in AZURE_SCHEMES}}


class Storage:
    """Containers under one root URL: file:///srv/terrace, s3://bucket/prefix, az://..., gs://..."""

    def __init__(
        self,
        root_url: str,
        containers: tuple[str, ...] = DEFAULT_CONTAINERS,
        azure: AzureAccount | None = None,
    ) -> None:
        """`azure` is the account of an az:// root (unset: obstore's and GDAL's own search)."""
        self.root_url = root_url.rstrip("/")
        self.containers = tuple(validate_container(c) for c in containers)
        parsed = urlparse(self.root_url)
        self.local_root = Path(parsed.path) if parsed.scheme == "file" else None
        self.azure = azure if parsed.scheme in AZURE_SCHEMES else None
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
            elif self.azure is not None:
                self._stores[container] = from_url(
                    f"{self.root_url}/{container}",
                    config=self.azure.store_config(),
                    client_options=self.azure.client_options(),
                )
            else:
                self._stores[container] = from_url(f"{self.root_url}/{container}")
        return self._stores[container]

    @property
    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration for reading `gdal_path`s (e.g. in `rasterio.Env`); none for local
        storage or credentials GDAL finds itself."""
        return self.azure.gdal_options() if self.azure is not None else {}

    def share_with_gdal(self) -> None:
        """Put `gdal_options` into this process's environment, where GDAL reads its configuration
        in every thread: titiler reads tiles in thread pools, out of reach of a `rasterio.Env`."""
        os.environ.update(self.gdal_options)

    def gdal_path(self, container: str, path: str) -> str:
        """The name GDAL opens an object by: the file itself, or /vsiaz/, /vsis3/ or /vsigs/,
        which read the ranges GDAL asks for (a sibling .tfw or .aux.xml is found there too)."""
        local = self.local_path(container, path)
        if local is not None:
            return str(local)
        if self.gdal_root is None:
            raise SetupError(
                f"GDAL cannot read storage at {urlparse(self.root_url).scheme}:// URLs.",
                "Use a file://, s3://, az:// or gs:// TERRACE_STORAGE_URL.",
            )
        return f"{self.gdal_root}/{validate_container(container)}/{validate_path(path)}"

    @property
    def gdal_root(self) -> str | None:
        """The cloud root as a GDAL path (/vsiaz/container/prefix); None if local or unknown."""
        parsed = urlparse(self.root_url)
        if parsed.scheme not in GDAL_PREFIXES:
            return None
        return GDAL_PREFIXES[parsed.scheme] + f"{parsed.netloc}{parsed.path}".strip("/")

    def local_path(self, container: str, path: str) -> Path | None:
        """The file behind an object on local storage (for GDAL); None for cloud storage."""
        if self.local_root is None:
            return None
        return self.local_root / validate_container(container) / validate_path(path)

    @contextmanager
    def local_copy(self, container: str, path: str) -> Iterator[Path]:
        """A local file with the object's content, and its sibling files beside it.

        Local storage hands out the file itself. A cloud object is streamed to a temporary folder
        (never held whole in memory) with every object of the same name and another extension
        (a shapefile's .shx/.dbf/.prj, a raster's .tfw/.aux.xml/.ovr: what GDAL looks for beside
        a file); the folder disappears afterwards.
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
        with tempfile.TemporaryDirectory(prefix="terrace-") as folder:
            for name in [path, *self.siblings(container, path)]:
                self.download(container, name, Path(folder) / PurePosixPath(name).name)
            yield Path(folder) / PurePosixPath(path).name

    def siblings(self, container: str, path: str) -> list[str]:
        """The other objects named like `path` but for their extension(s), in its folder."""
        folder = PurePosixPath(validate_path(path)).parent
        stem = PurePosixPath(path).name.rsplit(".", 1)[0] + "."
        prefix = str(folder) if folder.name else None
        listed = obstore.list_with_delimiter(self.store(container), prefix=prefix)
        return [
            item["path"]
            for item in listed["objects"]
            if PurePosixPath(item["path"]).name.startswith(stem) and item["path"] != path
        ]

    def download(self, container: str, path: str, target: Path) -> None:
        """Stream an object into the file `target`."""
        try:
            result = obstore.get(self.store(container), validate_path(path))
            with target.open("wb") as file:
                for chunk in result.stream():
                    file.write(chunk)
        except (ObjectNotFound, FileNotFoundError) as exc:
            raise NotFound(
                f"No object {path!r} in container {container!r}.",
                "Upload the file first with PUT /api/storage/{container}/{path}.",
            ) from exc

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
        with contextlib.suppress(ObjectNotFound, FileNotFoundError):
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
