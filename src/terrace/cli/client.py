"""The CLI's HTTP client: the Platform API as a user reaches it, with errors printed plainly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from terrace.errors import SetupError, TerraceError
from terrace.settings import ClientSettings, HomeSettings


class ApiError(TerraceError):
    """An error response from the API, carrying its code, message and remediation."""


def make_client() -> httpx.Client:
    settings = ClientSettings()
    key = settings.api_key.get_secret_value() if settings.api_key else _key_from_home()
    return httpx.Client(base_url=settings.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _key_from_home() -> str:
    path = HomeSettings().resolved() / "api_key"
    if not path.exists():
        raise SetupError(
            "No API key: TERRACE_API_KEY is unset and there is no .terrace/api_key.",
            "Set TERRACE_API_KEY, or run the command where `terrace up` runs.",
        )
    return path.read_text().strip()


def call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> Any:
    """Send a request; a 4xx/5xx becomes an ApiError with the server's message and remedy."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise SetupError(
            f"Cannot reach the Terrace API at {client.base_url}: {exc}",
            "Start it with `terrace up`, or set TERRACE_URL.",
        ) from exc
    raise_for_error(response)
    return response.json() if response.content else None


def raise_for_error(response: httpx.Response) -> None:
    """A 4xx/5xx response (read already) as an ApiError with the server's message and remedy."""
    if response.is_error:
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        raise ApiError(
            body.get("message", response.text),
            body.get("remediation", ""),
            code=body.get("code", f"HTTP_{response.status_code}"),
        )


def upload(client: httpx.Client, file: Path, container: str, path: str) -> Any:
    with file.open("rb") as stream:
        return call(client, "PUT", f"/api/storage/{container}/{path}", content=stream)
