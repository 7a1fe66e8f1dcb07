"""uvicorn's HTTP/1.1 protocol (httptools) with a lingering close (:mod:`mediaedge.linger`) and early
hints (:mod:`mediaedge.early_hints`), for the origin and for the edge's ``uvicorn`` server: pass
:class:`LingeringHttpToolsProtocol` as ``http=``. Stock uvicorn offers ASGI's early-hint extension on
HTTP/2 only; here every HTTP/1.1 request's scope offers it, and a hint sent before the response
start is written as a ``103 Early Hints`` (dropped for an HTTP/1.0 client).

Stock uvicorn closes a ``connection: close`` exchange the moment its answer is written, unread body
or not (the client gets a reset instead of the answer), and on a keep-alive connection reads and
discards an unanswered body to its end, however large. Here, a response completed while the request
body is still arriving ends the connection with a :class:`~mediaedge.linger.Linger` in both cases.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from mediaedge import early_hints
from mediaedge.early_hints import EARLY_HINT
from mediaedge.linger import Linger

__all__ = ["LingeringHttpToolsProtocol"]


class _Transport:
    """The transport as uvicorn's protocol and cycles see it: ``close`` lingers while a request body is
    unread, and a lingering connection counts as closing (nothing more is written to it; the linger
    closes it)."""

    def __init__(self, transport: asyncio.Transport, protocol: LingeringHttpToolsProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._protocol.linger is not None or self._transport.is_closing()

    def close(self) -> None:
        protocol = self._protocol
        if protocol.linger is not None:
            return
        if protocol.unread and not self._transport.is_closing():
            protocol.linger = Linger(self._transport, protocol.loop)
        else:
            self._transport.close()


def _hinting(app: ASGI3Application, cycle: RequestResponseCycle) -> ASGI3Application:
    """``app`` for one request (``cycle``) with the early-hint extension."""

    async def hinting(scope: Any, receive: Any, send: Any) -> None:
        scope["extensions"] = {**(scope.get("extensions") or {}), EARLY_HINT: {}}

        async def send_hints(message: Any) -> None:
            if message["type"] != EARLY_HINT:
                await send(message)
            elif not cycle.response_started and scope.get("http_version") == "1.1":
                if cycle.flow.write_paused and not cycle.disconnected:
                    await cycle.flow.drain()
                if not cycle.disconnected:
                    cycle.transport.write(early_hints.head(message["links"]))

        await app(scope, receive, send_hints)

    return hinting


class LingeringHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that lingers instead of closing on an unread request body, and
    sends early hints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unread = False  # a request's body is still arriving
        self.linger: Linger | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _Transport(transport, self)))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.linger is not None:
            self.linger.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server stops: a lingering connection closes now rather than when the linger ends."""
        if self.linger is not None:
            self.linger.transport.close()
        else:
            super().shutdown()

    def data_received(self, data: bytes) -> None:
        if self.linger is not None:
            self.linger.received()
            return
        super().data_received(data)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        super()._start_asgi_task(cycle, _hinting(app, cycle))

    def on_message_begin(self) -> None:
        self.unread = True
        super().on_message_begin()

    def on_message_complete(self) -> None:
        self.unread = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self.unread:  # answered early: the rest of the body is not worth reading to reuse the connection
            self.transport.close()
        super().on_response_complete()
