"""An Azure storage account as both readers of storage see it: obstore (uploads, outputs, listings)
and GDAL's /vsiaz/ (rasters read in ranges, tiles). The two read different variables, so Terrace
resolves the account once from the standard AZURE_STORAGE_* settings and hands each its form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from terrace.errors import SetupError

if TYPE_CHECKING:
    from obstore.store import AzureConfig, ClientConfig

# Azurite's development account, the same in every emulator (documented by Microsoft).
EMULATOR_ACCOUNT = "devstoreaccount1"
EMULATOR_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
EMULATOR_ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"


@dataclass(frozen=True)
class AzureAccount:
    """A storage account: its name, one credential (key or SAS token), and its blob endpoint
    when that is not https://{name}.blob.core.windows.net (the emulator, a private endpoint)."""

    name: str
    key: str | None = None
    sas_token: str | None = None
    endpoint: str | None = None

    def __repr__(self) -> str:  # never the credential
        return f"AzureAccount(name={self.name!r}, endpoint={self.endpoint!r})"

    @classmethod
    def resolve(
        cls,
        connection_string: str | None = None,
        name: str | None = None,
        key: str | None = None,
        sas_token: str | None = None,
        endpoint: str | None = None,
        use_emulator: bool = False,
    ) -> AzureAccount | None:
        """The account the settings describe: a connection string first, then the separate
        values, then the emulator's defaults; None when nothing is set (obstore and GDAL then
        find credentials their own way, e.g. a managed identity)."""
        if connection_string:
            return cls._parsed(connection_string)
        if use_emulator:
            name, key = name or EMULATOR_ACCOUNT, key or EMULATOR_KEY
            return cls(name, key, sas_token, endpoint or EMULATOR_ENDPOINT)
        if name:
            return cls(name, key, sas_token, endpoint)
        if key or sas_token or endpoint:
            raise SetupError(
                "Azure storage credentials are set without the account they belong to.",
                "Set AZURE_STORAGE_ACCOUNT_NAME, or give AZURE_STORAGE_CONNECTION_STRING instead.",
            )
        return None

    @classmethod
    def _parsed(cls, text: str) -> AzureAccount:
        fields = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
        if fields.get("UseDevelopmentStorage", "").lower() == "true":
            return cls(EMULATOR_ACCOUNT, EMULATOR_KEY, None, EMULATOR_ENDPOINT)
        name = fields.get("AccountName")
        if not name:
            raise SetupError(
                "AZURE_STORAGE_CONNECTION_STRING has no AccountName.",
                "Copy the connection string from the storage account's Access keys page.",
            )
        endpoint = fields.get("BlobEndpoint")
        if endpoint is None and "EndpointSuffix" in fields:
            protocol = fields.get("DefaultEndpointsProtocol", "https")
            endpoint = f"{protocol}://{name}.blob.{fields['EndpointSuffix']}"
        return cls(name, fields.get("AccountKey"), fields.get("SharedAccessSignature"), endpoint)

    def store_config(self) -> AzureConfig:
        """obstore's AzureStore configuration."""
        config: AzureConfig = {"account_name": self.name}
        if self.key:
            config["account_key"] = self.key
        if self.sas_token:
            config["sas_key"] = self.sas_token.lstrip("?")
        if self.endpoint:
            config["endpoint"] = self.endpoint.rstrip("/")
        return config

    def client_options(self) -> ClientConfig:
        """obstore's HTTP options: plain HTTP only to an endpoint given as http:// (the emulator)."""
        return {"allow_http": True} if self._scheme() == "http" else {}

    def gdal_options(self) -> dict[str, str]:
        """GDAL's /vsiaz/ configuration. Only a connection string carries an endpoint to GDAL,
        and it needs the account key; otherwise the account and SAS token (or GDAL's own
        credential search: a managed identity) reach the default endpoint."""
        if self.key:
            parts = [f"DefaultEndpointsProtocol={self._scheme()}", f"AccountName={self.name}"]
            parts.append(f"AccountKey={self.key}")
            if self.endpoint:
                parts.append(f"BlobEndpoint={self.endpoint.rstrip('/')}")
            return {"AZURE_STORAGE_CONNECTION_STRING": ";".join(parts) + ";"}
        options = {"AZURE_STORAGE_ACCOUNT": self.name}
        if self.sas_token:
            options["AZURE_STORAGE_SAS_TOKEN"] = self.sas_token.lstrip("?")
        return options

    def _scheme(self) -> str:
        return urlparse(self.endpoint).scheme if self.endpoint else "https"
