"""Outbound HTTP to user-given URLs (SPEC §9): public addresses only, pinned, redirects re-checked, capped.

A URL's host is resolved once; every address it resolves to must be public (or allow-listed),
and the connection goes to that checked address while Host and TLS SNI keep the name, so a
second, different DNS answer can never be what is connected to. Refusals happen before any
socket is opened.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Self

import httpx

from terrace.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_PIN = "terrace.pinned_address"


class OutboundRefused(InvalidInput):
    """The URL points where Terrace does not send requests (SPEC §9)."""

    code = "OUTBOUND_REFUSED"


class OutboundFailed(InvalidInput):
    """The remote server did not give a usable answer (unreachable, slow, too large, loops)."""

    code = "OUTBOUND_FAILED"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundFailed(
            f"The host name {host!r} does not resolve ({exc.strerror}).", "Check the URL's host name."
        ) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_allow(text: str | None) -> tuple[str, ...]:
    """The entries of a comma-separated allow list (TERRACE_OUTBOUND_ALLOW), lower-cased."""
    return tuple(e.strip().lower() for e in (text or "").split(",") if e.strip())


def _why_refused(address: Address) -> str | None:
    """Why `address` is not a public destination, or None when it is."""
    for label, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if test:
            return label
    return None


def _embedded(address: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 one stands for (IPv4-mapped, 6to4, NAT64), besides itself."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    inner = [address.ipv4_mapped, address.sixtofour]
    if address in NAT64:
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [address, *(a for a in inner if a is not None)]


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL, its host name and the one address to connect to."""

    url: httpx.URL
    host: str
    address: str


@dataclass(frozen=True)
class OutboundPolicy:
    """Where outbound requests may go and how long and large they may be."""

    allow: tuple[str, ...] = ()  # host names or CIDRs exempt from the public-address rule
    timeout_seconds: float = 10.0
    max_bytes: int = 5 * 1024**2
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False)

    def _networks(self) -> list[Network]:
        networks = []
        for entry in self.allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue  # a host name
        return networks

    def check(self, url: str | httpx.URL) -> Target:
        """The destination of `url`, resolved once; OutboundRefused unless it may be contacted."""
        parsed = parse_url(url)
        host = parsed.host.rstrip(".").lower()
        addresses = self.resolver(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        if not addresses:
            raise OutboundFailed(f"The host name {host!r} has no address.", "Check the URL's host name.")
        if host not in self.allow:
            networks = self._networks()
            for text in addresses:
                self._require_public(host, ipaddress.ip_address(text), networks)
        return Target(parsed, host, addresses[0])

    @staticmethod
    def _require_public(host: str, address: Address, networks: list[Network]) -> None:
        if any(address in n for n in networks if n.version == address.version):
            return
        for candidate in _embedded(address):
            reason = _why_refused(candidate)
            if reason:
                shown = host if host == str(address) else f"{host} ({address})"
                raise OutboundRefused(
                    f"Terrace does not send requests to {shown}: a {reason} address.",
                    "Give a URL of a public service; an operator can allow internal hosts or "
                    "networks with TERRACE_OUTBOUND_ALLOW.",
                )


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """`url` if it is an http(s) URL with a host and no credentials; InvalidInput otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"The URL is not valid: {exc}.", "Give an http:// or https:// URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(
            f"Only http:// and https:// URLs with a host can be used, not {str(url)[:200]!r}.",
            "Give an http:// or https:// URL.",
        )
    if parsed.userinfo:
        raise InvalidInput(
            "URLs with a user name or password are not accepted.", "Give the URL without credentials."
        )
    return parsed


class PinnedTransport(httpx.HTTPTransport):
    """Connects only to the address the policy checked: the URL's host becomes that address,
    the Host header and TLS SNI (and certificate check) keep the name. No DNS happens here."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(_PIN)
        if not isinstance(address, str):
            raise RuntimeError("outbound request without a checked address")
        extensions = {k: v for k, v in request.extensions.items() if k != _PIN}
        if request.url.scheme == "https":
            extensions["sni_hostname"] = request.url.host
        request.url = request.url.copy_with(host=address)
        request.extensions = extensions
        return super().handle_request(request)


@dataclass(frozen=True)
class Fetched:
    """A response read under the policy: the final URL, status, headers and (capped) body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    elapsed_ms: float


class Outbound:
    """An HTTP client for user-given URLs under an `OutboundPolicy`; use as a context manager."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        timeout = httpx.Timeout(policy.timeout_seconds)
        # No kept-alive connections: a TLS connection made for one name is never reused for
        # another that happens to resolve to the same address.
        transport = PinnedTransport(limits=httpx.Limits(max_keepalive_connections=0))
        # trust_env=False: a proxy from the environment would connect in our place, unchecked.
        self._client = httpx.Client(transport=transport, timeout=timeout, trust_env=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def get(
        self, url: str, headers: dict[str, str] | None = None, *, head_bytes: int | None = None
    ) -> Fetched:
        """GET `url`, following redirects (each hop checked). With `head_bytes`, only the first
        that many bytes are read; otherwise a body over the policy's `max_bytes` is refused."""
        started = time.monotonic()
        deadline = started + self.policy.timeout_seconds
        current = httpx.URL(url)
        for _ in range(self.policy.max_redirects + 1):
            target = self.policy.check(current)
            with self._send(target, headers or {}) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    current = current.join(location)
                    continue
                content = self._read(response, target, deadline, head_bytes)
                elapsed = (time.monotonic() - started) * 1000
                return Fetched(str(current), response.status_code, response.headers, content, elapsed)
        raise OutboundFailed(
            f"{url[:200]} redirected more than {self.policy.max_redirects} times.",
            "Give the service's final URL.",
        )

    @contextmanager
    def _send(self, target: Target, headers: dict[str, str]) -> Iterator[httpx.Response]:
        request = self._client.build_request(
            "GET", target.url, headers=headers, extensions={_PIN: target.address}
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise self._timeout(target.url) from None
        except httpx.HTTPError as exc:
            raise OutboundFailed(
                f"{target.host} could not be reached: {str(exc)[:200] or type(exc).__name__}.",
                "Check that the service is up and the URL is right.",
            ) from None
        try:
            yield response
        finally:
            response.close()

    def _read(
        self, response: httpx.Response, target: Target, deadline: float, head_bytes: int | None
    ) -> bytes:
        limit = head_bytes if head_bytes is not None else self.policy.max_bytes
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if time.monotonic() > deadline:
                    raise self._timeout(target.url)
                if len(body) > limit:
                    if head_bytes is not None:
                        return bytes(body[:head_bytes])
                    raise OutboundFailed(
                        f"The response is larger than {limit} bytes.",
                        "Give the URL of a service's landing page or capabilities, not of a large file.",
                        code="RESPONSE_TOO_LARGE",
                    )
        except httpx.TimeoutException:
            raise self._timeout(target.url) from None
        except httpx.HTTPError as exc:
            raise OutboundFailed(
                f"The answer was cut off: {type(exc).__name__}.", "Retry; check the service."
            ) from None
        return bytes(body)

    def _timeout(self, url: httpx.URL) -> OutboundFailed:
        return OutboundFailed(
            f"{url.host} did not answer within {self.policy.timeout_seconds:g} s.",
            "Check that the service is up; slow services cannot be registered.",
            code="OUTBOUND_TIMEOUT",
        )
