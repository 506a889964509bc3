"""Request body size limits, enforced before the app reads more than the limit.

A body is refused with 413 when its Content-Length says it is too large, and otherwise counted
as it streams in (chunked requests), so no route ever holds more than its limit. Upload routes
stream files to storage and have their own, larger limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrace.errors import PayloadTooLarge


@dataclass(frozen=True)
class Limit:
    """At most `max_bytes` of body; `setting` is what an operator changes to raise it."""

    max_bytes: int
    setting: str

    def error(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is over the limit of {self.max_bytes} bytes for this route.",
            f"Send less in one request; an operator can raise {self.setting}.",
        )

    def response(self) -> JSONResponse:
        return JSONResponse(self.error().to_dict(), status_code=413, headers={"Connection": "close"})


@dataclass(frozen=True)
class Upload:
    """The upload route(s): `method` requests to paths starting with `prefix`."""

    method: str
    prefix: str

    def matches(self, scope: Scope) -> bool:
        return scope["method"] == self.method and scope["path"].startswith(self.prefix)


class BodyLimit:
    """`limit` for every request body, `upload_limit` for those of the `uploads` routes."""

    def __init__(self, app: ASGIApp, limit: Limit, uploads: Sequence[Upload], upload_limit: Limit) -> None:
        self.app = app
        self.limit = limit
        self.uploads = tuple(uploads)
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = any(route.matches(scope) for route in self.uploads)
        limit = self.upload_limit if upload else self.limit
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit.max_bytes:
            await limit.response()(scope, receive, send)
            return
        await _Counted(self.app, limit).run(scope, receive, send)


class _Counted:
    """One request whose body is counted; past the limit the app reads no more and 413 answers.

    Reading past the limit raises in the app, which may turn that into any error response (a
    400 for a body it could not parse, a 500): that response is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, limit: Limit) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.answered = False

    @property
    def over(self) -> bool:
        return self.received > self.limit.max_bytes

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.over:
                    raise self.limit.error()
            return message

        async def guarded_send(message: Message) -> None:
            if self.over:
                await self._refuse(scope, receive, send)
                return
            self.answered = self.answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.over:
                raise
        if self.over:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.answered:
            self.answered = True
            await self.limit.response()(scope, receive, send)
