"""uvicorn's HTTP/1.1 protocol (httptools) with a lingering close (:mod:`mediaedge.linger`), for the
origin and for the edge's ``uvicorn`` server: pass :class:`LingeringHttpToolsProtocol` as ``http=``.

Stock uvicorn closes a ``connection: close`` exchange the moment its answer is written, unread body
or not (the client gets a reset instead of the answer), and on a keep-alive connection reads and
discards an unanswered body to its end, however large. Here, a response completed while the request
body is still arriving ends the connection with a :class:`~mediaedge.linger.Linger` in both cases.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class LingeringHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that lingers instead of closing on an unread request body."""

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
