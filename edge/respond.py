"""Raw ASGI responses: one ``send`` for the start line and headers, one for the body; early hints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from mediaedge.early_hints import EARLY_HINT
from mediaedge.errors import HTTPError

Headers = list[tuple[bytes, bytes]]
HeaderSeq = Sequence[tuple[bytes, bytes]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Scope = MutableMapping[str, Any]

JSON = b"application/json"


def adding_headers(send: Send, headers: HeaderSeq) -> Send:
    """``send`` with ``headers`` appended to the response start."""

    async def adding(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return adding


async def send_response(send: Send, status: int, headers: Headers, body: bytes = b"", head: bool = False) -> int:
    """Send a complete response; ``headers`` must already hold Content-Length. Returns body bytes sent."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
    return 0 if head else len(body)


async def send_parts(send: Send, status: int, headers: Headers, parts: Sequence[bytes | memoryview]) -> int:
    """A complete response whose body is ``parts`` in order, one body message each (views of cached
    slices go out as they are: no copy); ``headers`` must already hold Content-Length."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    sent = 0
    for part in parts:
        await send({"type": "http.response.body", "body": part, "more_body": True})
        sent += len(part)
    await send({"type": "http.response.body", "body": b""})
    return sent


async def send_json(send: Send, status: int, body: bytes, extra: HeaderSeq = (), head: bool = False) -> int:
    """A JSON response with Content-Type and Content-Length set."""
    headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body)), *extra]
    return await send_response(send, status, headers, body, head)


async def send_error(send: Send, error: HTTPError, extra: HeaderSeq = (), head: bool = False) -> int:
    """The seed's error body for ``error``, with its headers and ``extra``."""
    headers = [*extra, *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items())]
    return await send_json(send, error.status, error.body(), headers, head)


def hint_sender(scope: Scope, send: Send) -> Callable[[list[bytes]], Awaitable[None]] | None:
    """What sends a ``103 Early Hints`` with these ``Link`` values before the response, if the
    server offers the :data:`EARLY_HINT` extension; None otherwise."""
    if EARLY_HINT not in (scope.get("extensions") or {}):
        return None

    async def hint(links: list[bytes]) -> None:
        await send({"type": EARLY_HINT, "links": links})

    return hint
