"""Caching headers, validators and compression for the serving APIs' answers.

`Cache-Control` follows what the route marked (`terrace.serving.lifetimes`) and who asked:

- an approved version (a `_v1` table, a STAC item, their tiles and assets): anonymous
  `public, max-age=31536000, immutable`; with credentials `private, max-age=31536000, immutable`;
- `_latest`, lists, searches, collections, mosaics: `public, max-age=60` or `private, max-age=60`;
- a draft preview (always with credentials): `private, no-cache`;
- an error, or a method other than GET and HEAD: `no-store`.

An anonymous caller sees only `public` data (the visibility rule), so only its answers may be kept
by shared caches; an answer to a request with credentials may hold ouo or restricted data and is
`private`, whatever it holds. `Vary: Authorization, Accept, Accept-Encoding` keeps a cache from
handing one caller's answer (or format, or coding) to another.

A successful GET answer of bounded size is buffered and gets a strong ETag: a hash of its bytes
with the content coding appended, so one ETag never names two byte sequences (RFC 9110 §8.8.3).
`If-None-Match` naming it answers 304 without the body. The comparison happens only after the route
answered this caller, so a guessed ETag learns nothing more than the request without it: a hidden
collection answers 404 either way. JSON, GeoJSON, MVT and text are compressed, with brotli when
the client accepts it and gzip otherwise; PNG, JPEG and WEBP tiles and COG bytes are already
compressed and go as they are. Answers that stream without a length are compressed as they go,
without an ETag; answers with an ETag of their own (files) keep it and their bytes.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from enum import Enum, auto
from typing import Protocol

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrace.serving.lifetimes import Lifetime, marked

DIRECTIVES = {
    Lifetime.VERSION: "max-age=31536000, immutable",
    Lifetime.CURRENT: "max-age=60",
    Lifetime.DRAFT: "no-cache",
}
NO_STORE = "no-store"
# tipg and titiler choose JSON or HTML by `Accept`.
VARY = ("Authorization", "Accept", "Accept-Encoding")
# Below this a compressed body saves less than the header costs.
MIN_COMPRESSED = 512
# Larger answers stream through without an ETag.
MAX_BUFFERED = 16 * 1024**2
# Fast levels, as web servers use for dynamic content: most of the gain at a fraction of the time.
GZIP_LEVEL = 1
BROTLI_QUALITY = 3
# Codings in order of preference when the client accepts several equally.
CODINGS = ("br", "gzip")
COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/geo+json",
        "application/geo+json-seq",
        "application/ndjson",
        "application/x-ndjson",
        "application/schema+json",
        "application/vnd.oai.openapi+json",
        "application/vnd.mapbox-vector-tile",
        "application/x-protobuf",
        "application/xml",
        "image/svg+xml",
    }
)
# (W/)"opaque-tag", or `*`, in an If-None-Match list.
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"]*"|\*)\s*(?:,|$)')


def cache_control(method: str, status: int, lifetime: Lifetime, credentials: bool) -> str:
    """The `Cache-Control` of one answer (the table in the module docstring)."""
    if method not in ("GET", "HEAD") or not 200 <= status < 300:
        return NO_STORE
    return f"{'private' if credentials else 'public'}, {DIRECTIVES[lifetime]}"


def negotiate(accept_encoding: str) -> str | None:
    """The coding to send: the accepted one with the highest q-value, ties going to `CODINGS`' order."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=")
        try:
            weights[coding.strip()] = float(q) if q else 1.0
        except ValueError:
            continue
    star = weights.get("*", 0.0)
    ranked = [(weights.get(coding, star), -rank, coding) for rank, coding in enumerate(CODINGS)]
    best, _, coding = max(ranked)
    return coding if best > 0 else None


def compressible(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    return media in COMPRESSIBLE or media.startswith("text/") or media.endswith("+json")


def entity_tag(body: bytes, coding: str | None) -> str:
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    return f'"{digest}-{coding}"' if coding else f'"{digest}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether `If-None-Match` names `tag`, by the weak comparison RFC 9110 §13.1.2 asks for."""
    listed = {found.group(1) for found in _ENTITY_TAG.finditer(if_none_match)}
    return "*" in listed or tag in listed


class Encoder(Protocol):
    def chunk(self, data: bytes) -> bytes: ...
    def end(self) -> bytes: ...


class Gzip:
    def __init__(self) -> None:
        # wbits 31: the gzip container, with a zero timestamp, so equal bodies give equal bytes.
        self._zlib = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        return self._zlib.compress(data)

    def end(self) -> bytes:
        return self._zlib.flush()


class Brotli:
    def __init__(self) -> None:
        self._brotli = brotli.Compressor(quality=BROTLI_QUALITY)

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data))

    def end(self) -> bytes:
        return bytes(self._brotli.finish())


ENCODERS: dict[str, type[Encoder]] = {"br": Brotli, "gzip": Gzip}


class Mode(Enum):
    PASS = auto()  # headers only
    BUFFER = auto()  # whole body: ETag, 304, compression
    STREAM = auto()  # compressed as it goes


class ServingCache:
    """The middleware of each serving app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The dict the routes mark, shared with every scope the mounted apps derive from this one.
        scope.setdefault("state", {})
        await self.app(scope, receive, _Exchange(scope, send).send)


class _Exchange:
    """One request's answer on its way out."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.request = Headers(scope=scope)
        self.downstream = send
        self.mode = Mode.PASS
        self.start: Message = {}
        self.coding: str | None = None
        self.chunks: list[bytes] = []
        self.encoder: Encoder | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            self.mode = self._mode(message["status"], self._headed(message))
            if self.mode is Mode.PASS:
                await self.downstream(message)
        elif message["type"] != "http.response.body" or self.mode is Mode.PASS:
            await self.downstream(message)
        elif self.mode is Mode.BUFFER:
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_buffered(b"".join(self.chunks))
        else:
            await self._send_streamed(message)

    def _headed(self, message: Message) -> MutableHeaders:
        headers = MutableHeaders(scope=message)
        method = self.scope["method"]
        credentials = "authorization" in self.request
        headers["Cache-Control"] = cache_control(method, message["status"], marked(self.scope), credentials)
        present = {name.strip().lower() for name in headers.get("vary", "").split(",")}
        for name in VARY:
            if name.lower() not in present:
                headers.add_vary_header(name)
        return headers

    def _mode(self, status: int, headers: MutableHeaders) -> Mode:
        method = self.scope["method"]
        if status != 200 or method not in ("GET", "POST"):
            return Mode.PASS
        if any(name in headers for name in ("etag", "content-encoding", "content-range")):
            return Mode.PASS
        if compressible(headers.get("content-type")):
            self.coding = negotiate(self.request.get("accept-encoding", ""))
        length = headers.get("content-length")
        if length is not None and int(length) <= MAX_BUFFERED and (method == "GET" or self.coding):
            return Mode.BUFFER
        return Mode.STREAM if self.coding else Mode.PASS

    async def _send_buffered(self, body: bytes) -> None:
        headers = MutableHeaders(scope=self.start)
        coding = self.coding if len(body) >= MIN_COMPRESSED else None
        if self.scope["method"] == "GET":
            headers["ETag"] = entity_tag(body, coding)
            if matches(self.request.get("if-none-match", ""), headers["ETag"]):
                await self._send_not_modified(headers)
                return
        if coding is not None:
            encoder = ENCODERS[coding]()
            body = encoder.chunk(body) + encoder.end()
            headers["Content-Encoding"] = coding
            headers["Content-Length"] = str(len(body))
        await self.downstream(self.start)
        await self.downstream({"type": "http.response.body", "body": body})

    async def _send_not_modified(self, headers: MutableHeaders) -> None:
        """304 with the validators and cache headers a 200 would carry (RFC 9110 §15.4.5)."""
        kept = ("cache-control", "content-location", "date", "etag", "expires", "vary")
        raw = [(name.encode(), value.encode()) for name, value in headers.items() if name in kept]
        await self.downstream({"type": "http.response.start", "status": 304, "headers": raw})
        await self.downstream({"type": "http.response.body", "body": b""})

    async def _send_streamed(self, message: Message) -> None:
        assert self.coding is not None
        if self.encoder is None:
            self.encoder = ENCODERS[self.coding]()
            headers = MutableHeaders(scope=self.start)
            headers["Content-Encoding"] = self.coding
            del headers["Content-Length"]
            await self.downstream(self.start)
        body = self.encoder.chunk(message.get("body", b""))
        more = message.get("more_body", False)
        if not more:
            body += self.encoder.end()
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})
