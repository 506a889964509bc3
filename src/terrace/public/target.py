"""Where releases cleared `public` go: a second database and a storage container of its own."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from terrace.storage import Storage
from terrace.storage.azure import AzureAccount

PUBLIC_CONTAINER = "public"
# The public-zone API's login: reads the target's `geo` and pgSTAC, nothing else anywhere.
READER_ROLE = "terrace_public_reader"


@dataclass(frozen=True)
class PublicTarget:
    """The target as the workers write it: its owner's URL and the storage root holding `public`."""

    database_url: str
    storage: Storage

    @classmethod
    def of(cls, database_url: str, storage_url: str, azure: AzureAccount | None = None) -> PublicTarget:
        """`azure`: the account of an az:// `storage_url`."""
        return cls(database_url, Storage(storage_url, containers=(PUBLIC_CONTAINER,), azure=azure))

    @property
    def name(self) -> str:
        """How status shows the target: host, port and database, never the credentials."""
        parts = urlsplit(self.database_url)
        return (
            f"{parts.hostname}:{parts.port or 5432}{parts.path} + {self.storage.root_url}/{PUBLIC_CONTAINER}"
        )

    def href(self, path: str) -> str:
        """The URL of an object of the public container, as its STAC assets name it."""
        return f"{self.storage.root_url}/{PUBLIC_CONTAINER}/{path}"
