"""CORS for the origin API, so browser apps can upload (tus-js-client, ``fetch``) and call the API.

The API authenticates with the ``API-Key`` header, never with cookies, so a page on another site
cannot act with a key it does not know: allowing any origin (the default, ``origin.cors_origins =
["*"]``) exposes nothing. Operators who want browsers on their own sites only list them.

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered here;
a plain ``OPTIONS /files`` is TUS discovery and goes to the app. Responses to allowed origins expose
the TUS and ``Location`` headers a browser client must read.

Origins may also be allowed at run time (``dynamic``: the editor developers' registered origins,
:mod:`origin.editor.developers`): those get their own origin back (with ``Vary: Origin``) even when
the static list is ``*``, and preflights always allow ``content-type, authorization``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mediaedge.errors import error_body

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: ``(scope, origin) -> allowed``: origins allowed at run time, besides the static list.
DynamicOrigins = Callable[[Scope, str], Awaitable[bool]]

METHODS = b"GET, POST, PUT, PATCH, HEAD, DELETE, OPTIONS"
EDITOR_HEADERS = b"content-type, authorization"
EXPOSED = (
    b"Location, Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, Upload-Expires, "
    b"Upload-Concat, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, "
    b"Content-Range, Content-Length, ETag, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"
)
MAX_AGE = b"600"


class CORSMiddleware:
    """Adds CORS answers for ``allowed`` origins (``"*"`` = any) around an ASGI app."""

    def __init__(self, app: ASGIApp, allowed: list[str], dynamic: DynamicOrigins | None = None) -> None:
        self.app = app
        self.any = "*" in allowed
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed)
        self.dynamic = dynamic

    def allows(self, origin: str) -> bool:
        return self.any or origin.lower() in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        text = origin.decode("latin-1")
        registered = self.dynamic is not None and await self.dynamic(scope, text.rstrip("/").lower())
        allowed = registered or self.allows(text)
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            requested = headers.get(b"access-control-request-headers")
            await self._preflight(send, origin, allowed, requested, registered)
            return
        if not allowed:
            await self.app(scope, receive, send)  # no CORS headers: the browser withholds the answer
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self._simple(origin, registered)]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _simple(self, origin: bytes, registered: bool = False) -> list[tuple[bytes, bytes]]:
        echo = registered or not self.any
        value = origin if echo else b"*"
        vary = [(b"vary", b"Origin")] if echo else []
        return [(b"access-control-allow-origin", value), (b"access-control-expose-headers", EXPOSED), *vary]

    async def _preflight(
        self, send: Send, origin: bytes, allowed: bool, requested: bytes | None, registered: bool = False
    ) -> None:
        if not allowed:
            body = error_body(403, "This origin may not call the API", "ORIGIN_NOT_ALLOWED")
            await _send(send, 403, [(b"content-type", b"application/json"), (b"vary", b"Origin")], body)
            return
        headers = [
            *self._simple(origin, registered),
            (b"access-control-allow-methods", METHODS),
            (b"access-control-max-age", MAX_AGE),
        ]
        if registered:
            extra = b", " + requested if requested else b""
            headers.append((b"access-control-allow-headers", EDITOR_HEADERS + extra))
        elif requested:  # any request header: authentication is the API key, not ambient credentials
            headers.append((b"access-control-allow-headers", requested))
        await _send(send, 204, headers)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
    headers = [*headers, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
