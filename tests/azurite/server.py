"""Azurite, Microsoft's Azure Blob Storage emulator (npm, installed by `scripts/setup --test`),
run by node on loopback with its data in a folder of our own; usable outside pytest too:

    with start_azurite("127.0.0.1", free_port(), folder, containers=("terrace",)) as azurite:
        env = azurite.environment()  # AZURE_STORAGE_CONNECTION_STRING for `terrace api`/`worker`
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import httpx

FOLDER = Path(__file__).parent
EXECUTABLE = FOLDER / "node_modules" / ".bin" / "azurite-blob"
# The emulator's well-known development account (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API_VERSION = "2021-08-06"


@dataclass(frozen=True)
class AzuriteServer:
    """A running emulator: where it listens and the account to sign requests with."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    account: str = ACCOUNT
    key: str = KEY

    @property
    def blob_endpoint(self) -> str:
        """The account's blob endpoint (path-style, as the emulator serves it)."""
        return f"http://{self.host}:{self.port}/{self.account}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def environment(self) -> dict[str, str]:
        """The standard variable a deployment sets to reach this account."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def create_container(self, name: str) -> None:
        """Create a blob container (201), or accept that it exists (409)."""
        headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION}
        signature = self._sign("PUT", headers, f"/{name}\nrestype:container")
        response = httpx.put(
            f"{self.blob_endpoint}/{name}",
            params={"restype": "container"},
            headers=headers | {"Authorization": f"SharedKey {self.account}:{signature}"},
            timeout=10,
        )
        if response.status_code not in (201, 409):
            raise RuntimeError(f"Azurite refused container {name!r}: {response.status_code} {response.text}")

    def _sign(self, verb: str, headers: dict[str, str], resource: str) -> str:
        """Shared Key signature of a request without body or standard headers."""
        canonical = "".join(f"{name}:{value}\n" for name, value in sorted(headers.items()))
        text = f"{verb}\n" + "\n" * 11 + canonical + f"/{self.account}/{self.account}{resource}"
        digest = hmac.new(base64.b64decode(self.key), text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()


@contextmanager
def start_azurite(
    host: str, port: int, location: Path, containers: Iterable[str] = ()
) -> Iterator[AzuriteServer]:
    """Azurite's blob service on host:port with its data under `location`, the given containers
    created; stopped (and its data left to the caller's folder) at the end."""
    if not EXECUTABLE.exists():
        raise RuntimeError("Azurite is not installed: run `scripts/setup --test`.")
    location.mkdir(parents=True, exist_ok=True)
    command = [
        shutil.which("node") or "node",
        str(EXECUTABLE.resolve()),
        *("--blobHost", host, "--blobPort", str(port), "--location", str(location)),
        *("--skipApiVersionCheck", "--disableTelemetry", "--silent"),
    ]
    with open(location / "azurite.log", "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    server = AzuriteServer(host, port, process)
    try:
        _wait_listening(server)
        for name in containers:
            server.create_container(name)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)  # it waits for idle keep-alive connections; its data is kept
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_listening(server: AzuriteServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                raise RuntimeError(f"Azurite did not start on {server.host}:{server.port}") from None
            time.sleep(0.1)
