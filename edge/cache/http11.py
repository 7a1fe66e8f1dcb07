"""An HTTP/1.1 transport for httpx that reports interim responses: what pull zones fetch through.

httpx (httpcore) reads past every ``1xx`` a server sends before its final response; a cache must
forward them (RFC 9110 §15.2: ``103 Early Hints``). This transport speaks HTTP/1.1 with ``h11`` over
asyncio streams and hands each interim response to the request's :data:`INTERIM` extension, an async
callable ``(status, headers)``, before the final response is returned. Everything else is what
``httpx.AsyncHTTPTransport`` does for HTTP/1.1: keep-alive connections reused per origin (idle ones
closed after ``keepalive_expiry``), at most ``max_connections`` requests at once (beyond that a
request waits up to the pool timeout), TLS with httpx's default context, httpx's timeouts
(connect/read/write/pool) and exceptions. A request without a body that fails on a reused
connection before any byte of the answer arrived (the server closed it while idle) is sent once more
on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import NoReturn

import h11
import httpx

__all__ = ["INTERIM", "HintSink", "Http11Transport", "Interim", "early_hints"]

#: Request extension: called with the status and header fields (names lower-case) of each interim
#: (1xx) response.
INTERIM = "mediaedge.interim"
Interim = Callable[[int, list[tuple[bytes, bytes]]], Awaitable[None]]
#: What receives the ``Link`` values of one ``103 Early Hints``.
HintSink = Callable[[list[bytes]], Awaitable[None]]

_READ = 64 * 1024
Origin = tuple[str, str, int]


class _Stale(Exception):
    """A reused connection was found closed before the answer began (the request may be sent again)."""


class _Connection:
    """One HTTP/1.1 connection: an h11 state machine over an asyncio stream pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()
        self.reused = False
        self.received = False  # a byte of the current answer arrived

    def usable(self, expiry: float) -> bool:
        """Whether an idle connection may carry another request: not closed by the server, not expired."""
        return not self.writer.is_closing() and not self.reader.at_eof() and time.monotonic() - self.idle_since < expiry

    async def send(self, request: httpx.Request, limit: float | None) -> None:
        """Send ``request``, each write within ``limit`` seconds."""
        assert isinstance(request.stream, httpx.AsyncByteStream)  # what httpx.AsyncClient sends
        event = h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
        await self._write(self.h11.send(event), limit)
        async for chunk in request.stream:
            if chunk:
                await self._write(self.h11.send(h11.Data(data=chunk)), limit)
        await self._write(self.h11.send(h11.EndOfMessage()), limit)

    async def _write(self, data: bytes | None, limit: float | None) -> None:
        if data:
            self.writer.write(data)
            async with asyncio.timeout(limit):
                await self.writer.drain()

    async def next_event(self, limit: float | None) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        """The next h11 event, each read within ``limit`` seconds; :class:`_Stale` if a reused
        connection turns out closed before its answer began."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(limit):
                    data = await self.reader.read(_READ)
            except ConnectionError:
                if self.reused and not self.received:
                    raise _Stale from None
                raise
            if not data and self.reused and not self.received:
                raise _Stale
            self.received = self.received or bool(data)
            self.h11.receive_data(data)

    def finished(self) -> bool:
        """Whether the rest of the answer is here already (a 304, a HEAD, a body fully received):
        then the connection can be reused without reading from it."""
        try:
            while isinstance(event := self.h11.next_event(), h11.Data):
                pass
        except h11.RemoteProtocolError:
            return False
        return isinstance(event, h11.EndOfMessage)

    def reset(self) -> bool:
        """After a complete exchange: ready for the next request (True), or to be closed."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.idle_since = time.monotonic()
            self.reused, self.received = True, False
            return True
        return False

    def close(self) -> None:
        self.writer.close()

    async def closed(self) -> None:
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection; the connection goes back to the pool once the body
    is complete, and is closed if the body is closed before it all arrived."""

    def __init__(self, transport: Http11Transport, origin: Origin, conn: _Connection, request: httpx.Request):
        self._transport = transport
        self._origin = origin
        self._conn: _Connection | None = conn
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        timeout = _timeouts(self._request).get("read")
        with _mapped(self._request, httpx.ReadTimeout, httpx.ReadError):
            while True:
                event = await conn.next_event(timeout)
                if not isinstance(event, h11.Data):
                    break  # EndOfMessage: h11 yields nothing else inside a body
                yield bytes(event.data)
        self._conn = None
        self._transport.release(self._origin, conn, reuse=conn.reset())

    async def aclose(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._transport.release(self._origin, conn, reuse=conn.finished() and conn.reset())


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeouts


@contextlib.contextmanager
def _mapped(
    request: httpx.Request, on_timeout: type[httpx.TimeoutException], on_error: type[httpx.TransportError]
) -> Iterator[None]:
    """Raise httpx's exceptions for what the network, the timeouts and h11 raise."""
    try:
        yield
    except TimeoutError as exc:
        raise on_timeout(str(exc) or on_timeout.__name__, request=request) from exc
    except h11.RemoteProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except h11.LocalProtocolError as exc:
        raise httpx.LocalProtocolError(str(exc), request=request) from exc
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise on_error(str(exc) or type(exc).__name__, request=request) from exc


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 to any origin, with interim responses reported (see the module's docstring)."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_keepalive: int = 100,
        keepalive_expiry: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._slots = asyncio.BoundedSemaphore(max_connections)
        self._max_keepalive = max_keepalive
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = _timeouts(request)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("No connection became free in time", request=request) from None
        try:
            return await self._exchange(request, origin, timeouts)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(
        self, request: httpx.Request, origin: Origin, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        replayable = "content-length" not in request.headers and "transfer-encoding" not in request.headers
        while True:
            conn = self._idle_connection(origin) or await self._connect(request, origin, timeouts.get("connect"))
            try:
                return await self._respond(request, origin, conn, timeouts)
            except _Stale:
                conn.close()
                if not replayable:
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response.", request=request
                    ) from None
            except BaseException:
                conn.close()
                raise

    async def _respond(
        self, request: httpx.Request, origin: Origin, conn: _Connection, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        with _mapped(request, httpx.WriteTimeout, httpx.WriteError):
            try:
                await conn.send(request, timeouts.get("write"))
            except ConnectionError:
                if conn.reused:  # the server closed it while idle: nothing of ours was read
                    raise _Stale from None
                raise
        interim: Interim | None = request.extensions.get(INTERIM)
        with _mapped(request, httpx.ReadTimeout, httpx.ReadError):
            while True:
                event = await conn.next_event(timeouts.get("read"))
                if isinstance(event, h11.InformationalResponse):
                    if interim is not None:
                        await interim(event.status_code, list(event.headers))
                    continue
                if isinstance(event, h11.Response):
                    break
                _unexpected(request, event)
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_Body(self, origin, conn, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": event.reason},
        )

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.usable(self._expiry):
                return conn
            conn.close()
        return None

    async def _connect(self, request: httpx.Request, origin: Origin, limit: float | None) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(trust_env=False)
                self._ssl.set_alpn_protocols(["http/1.1"])
            context = self._ssl
        with _mapped(request, httpx.ConnectTimeout, httpx.ConnectError):
            try:
                async with asyncio.timeout(limit):
                    reader, writer = await asyncio.open_connection(
                        host, port, ssl=context, server_hostname=host if context else None, limit=_READ
                    )
            except ssl.SSLError as exc:
                raise httpx.ConnectError(str(exc), request=request) from exc
        return _Connection(reader, writer)

    def release(self, origin: Origin, conn: _Connection, *, reuse: bool) -> None:
        """A response is over: keep its connection for the next request to ``origin``, or close it."""
        self._slots.release()
        if reuse and self._idle_count < self._max_keepalive:
            self._idle.setdefault(origin, []).append(conn)
            self._idle_count += 1
        else:
            conn.close()

    async def aclose(self) -> None:
        """Close the idle connections (and wait until they are closed); one in use closes with its
        response."""
        idle, self._idle, self._idle_count = self._idle, {}, 0
        for conns in idle.values():
            for conn in conns:
                conn.close()
        for conns in idle.values():
            for conn in conns:
                await conn.closed()


def early_hints(sink: HintSink) -> Interim:
    """An :data:`INTERIM` callback passing the ``Link`` values of each ``103`` that has any to ``sink``;
    other interim responses (``100 Continue``, ``102``, ``104``) concern this hop only and are dropped."""

    async def interim(status: int, headers: list[tuple[bytes, bytes]]) -> None:
        links = [value for name, value in headers if name == b"link"]
        if status == 103 and links:
            await sink(links)

    return interim


def _unexpected(request: httpx.Request, event: object) -> NoReturn:
    raise httpx.RemoteProtocolError(f"Unexpected {type(event).__name__} before the response", request=request)
