"""A lean HTTP/1.1 ASGI server for the edge: one ``asyncio.Protocol`` with ``httptools`` on uvloop.

Why not uvicorn: on a cache hit the edge app costs less than uvicorn's own per-request machinery (a
Task, a cycle object, message queues, header checks). Here:

- **Eager execution.** Each connection keeps an idle asyncio Task ready for its next request; the
  app coroutine is stepped synchronously right after the request's headers are parsed, with that Task
  current and inside its context (what Python 3.12's eager tasks do). A request that never suspends
  (the edge's cache hit) is answered there, and the Task stays idle for the next one: no Task per hit.
  One that suspends goes on in that same Task (:class:`_Host`). Code in the app always has a current
  task, the same one throughout (anyio, httpx and timeouts need it), and its context variables never
  reach the next request.
- **Pipelining.** Parsed requests queue up and start strictly one after the other; reading pauses
  while any wait, so a client cannot make the server buffer without bound.
- **Backpressure.** ``send`` waits while the transport's write buffer is above its high-water mark
  (``pause_writing``/``resume_writing``), before writing, so a response that fits in one write never
  suspends and a multi-GB stream holds one chunk plus the buffer. Request bodies pause reading when
  more than :data:`READ_LIMIT` bytes wait unread.
- The response head is built once, with a per-second ``date`` (unless the app gave one: a cache
  forwards its stored ``Date``) and cached status lines, and goes out in the same write as the first
  body chunk.
- **Fast path.** An app with a ``fast_path`` (:mod:`edge.fastpath`) answers repeated cache hits right
  from ``on_headers_complete``, without a scope, an ASGI call or a coroutine; the answers of one read
  go out in one write (pipelining).
- **Zero copy.** ASGI's ``http.response.zerocopy`` (plain HTTP, not TLS): ``os.sendfile`` from the
  file to the socket whenever the transport has nothing buffered, waiting on the socket meanwhile.
- **Early hints.** ASGI's ``http.response.early_hint`` before ``http.response.start`` writes a
  ``103 Early Hints`` with its ``links`` as ``Link`` fields (HTTP/1.1 clients only).

No access log: the edge writes its own (tokens must never be logged). WebSocket/h2c upgrades are
ignored (RFC 9110 §7.8 lets a server do so): the request is answered normally, then the connection
is closed. In production uvicorn runs it (:class:`UvicornProtocol` as its ``http=`` class: binding,
worker processes, lifespan, graceful shutdown); :class:`Server` serves an app in the running loop
(tests, embedding).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Coroutine, Generator, MutableMapping
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote

import httptools

from edge.respond import Receive, Scope, Send
from mediaedge import early_hints
from mediaedge.early_hints import EARLY_HINT
from mediaedge.errors import error_body
from mediaedge.linger import Linger

__all__ = ["KEEP_ALIVE", "Server", "UvicornProtocol", "date_line", "status_line"]

log = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]
#: An app's fast path (:meth:`edge.fastpath.FastPath.answer`): (method, raw path, headers, client) →
#: ``(head, body)`` to send as is (the head complete: one Date, the blank line; the body bytes or a
#: tuple of buffers written in order), or else an object passed to the app as the ``FAST_PATH`` extension.
FastAnswer = Callable[[bytes, bytes, list[tuple[bytes, bytes]], tuple[str, int] | None], Any]
FAST_PATH = "mediaedge.fastpath"
ZEROCOPY = "http.response.zerocopy"  # ASGI's extension: os.sendfile from a file (not over TLS)

KEEP_ALIVE = 65  # seconds an idle connection stays open; players fetch a segment every few seconds
MAX_HEAD = 64 * 1024  # request line + headers; larger → 431
READ_LIMIT = 64 * 1024  # unread request body bytes before reading pauses
GRACE = 5.0  # seconds in-flight requests get to finish at shutdown
WRITE_HIGH_WATER = 256 * 1024  # transport buffer above which send() waits
BACKLOG = 2048

_enter_task = asyncio.tasks._enter_task
_leave_task = asyncio.tasks._leave_task
_DISCONNECT = "http.disconnect"
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_COPY_LIMIT = 16 * 1024  # bodies below this are joined to the head: one plain write is cheapest
_status_lines: dict[int, bytes] = {}


class _HeadTooLarge(Exception):
    """Raised from a parser callback when the request head exceeds :data:`MAX_HEAD`."""


class _Date:
    """The ``date`` header line, formatted at most once per second."""

    second = 0
    line = b""

    @classmethod
    def get(cls) -> bytes:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.line = now, b"date: %s\r\n" % formatdate(now, usegmt=True).encode()
        return cls.line


def _status_line(status: int) -> bytes:
    line = _status_lines.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase.encode()
        except ValueError:
            phrase = b""
        line = _status_lines[status] = b"HTTP/1.1 %d %s\r\n" % (status, phrase)
    return line


status_line = _status_line  # for prebuilt responses (edge.fastpath)
date_line = _Date.get  # the current ``date`` header line, likewise


def _error_response(status: int, message: str, head: bool = False) -> bytes:
    """A complete ``connection: close`` answer with the seed's JSON error body."""
    body = error_body(status, message)
    return b"%scontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n%s\r\n%s" % (
        _status_line(status),
        len(body),
        _Date.get(),
        b"" if head else body,
    )


class _Host(Coroutine[Any, Any, None]):
    """The Task a connection's next request runs in, made before the request arrives.

    :meth:`run` steps an app coroutine synchronously with this Task current and inside the Task's
    context, as Python 3.12's eager tasks do. A coroutine that finishes in that step leaves the Task
    idle for the connection's next request, so a cache hit costs no Task of its own. One that suspends
    is *adopted*: the Task (parked on a future of its own until then) takes over the very same
    coroutine at the awaitable it yielded, so the app sees one current task throughout, and
    cancellation and exceptions reach it exactly as in a Task started from the beginning.

    A host is not reused once the request it ran changed its context variables or asked to cancel its
    Task (``cancelling()``): the next request must not see either.
    """

    __slots__ = ("loop", "task", "context", "coro", "pending", "slot", "spent")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.context = contextvars.copy_context()
        self.coro: Coroutine[Any, Any, None] | None = None  # the adopted app coroutine
        self.pending: list[Any] = []  # what it yielded in its first step, until the Task takes it
        self.slot: asyncio.Future[None] | None = None  # what the idle Task waits on
        self.spent = False  # adopted, or not clean enough to reuse
        self.task: asyncio.Task[None] = loop.create_task(self, context=self.context)

    def run(self, coro: Coroutine[Any, Any, None]) -> tuple[bool, BaseException | None]:
        """Step ``coro`` once: whether it finished (and its exception), or False once adopted."""
        loop, task, context = self.loop, self.task, self.context
        before = context.copy()
        _enter_task(loop, task)
        try:
            yielded = context.run(coro.send, None)
        except StopIteration:
            return self._finished(before, None)
        except (Exception, asyncio.CancelledError) as exc:
            return self._finished(before, exc)
        finally:
            _leave_task(loop, task)
        self.coro, self.spent = coro, True
        self.pending.append(yielded)
        if self.slot is not None and not self.slot.done():
            self.slot.set_result(None)  # wake the idle Task: its next send() hands it ``yielded``
        return False, None

    def _finished(self, before: contextvars.Context, exc: BaseException | None) -> tuple[bool, BaseException | None]:
        if self.context != before or self.task.cancelling():
            self.retire()
        return True, exc

    def retire(self) -> None:
        """End an idle host (its connection is gone, or it may not be reused)."""
        if not self.spent:
            self.spent = True
            self.task.cancel()

    def send(self, value: Any) -> Any:
        if self.pending:
            return self.pending.pop()
        if self.coro is not None:
            return self.coro.send(value)
        slot = self.slot = self.loop.create_future()
        slot._asyncio_future_blocking = True  # yielded as ``await slot`` would
        return slot

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        exc = typ if val is None else val
        if self.coro is None:
            self.spent = True
            raise exc  # idle: cancelled (retired, or from outside) before any request was adopted
        if self.pending:  # thrown before the Task's first step with the coroutine (cancelled at once):
            awaited = self.pending.pop()  # as a Task would, cancel what it waits on, then throw there
            if isinstance(awaited, asyncio.Future):
                awaited.cancel()
        return self.coro.throw(exc)

    def close(self) -> None:
        if self.coro is not None:
            self.coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("driven by a Task only")


class _Exchange:
    """One request and its response: the scope, the unread request body, ``receive`` and ``send``."""

    __slots__ = (
        "proto",
        "scope",
        "keep_alive",
        "head",
        "expect_continue",
        "chunks",
        "buffered",
        "complete",
        "delivered",
        "waiter",
        "status",
        "headers",
        "written",
        "chunked",
        "no_body",
        "length",
        "sent",
        "done",
        "task",
    )

    def __init__(self, proto: HttpProtocol, scope: Scope, keep_alive: bool, expect_continue: bool) -> None:
        self.proto = proto
        self.scope = scope
        self.keep_alive = keep_alive
        self.head = scope["method"] == "HEAD"
        self.expect_continue = expect_continue
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.complete = False  # the whole request body was parsed
        self.delivered = False  # receive() returned the last http.request
        self.waiter: asyncio.Future[None] | None = None
        self.status = 0  # from http.response.start; the head goes out with the first body
        self.headers: Any = ()
        self.written = False
        self.chunked = False
        self.no_body = False
        self.length: int | None = None
        self.sent = 0
        self.done = False  # the response is complete
        self.task: asyncio.Task[None] | None = None

    # -- running the app ---------------------------------------------------------------------------

    def run(self) -> None:
        """Step the app in the connection's host Task: a request that never suspends is answered right
        here; one that suspends goes on in that Task (:class:`_Host`)."""
        proto = self.proto
        host = proto.host
        if host is None or host.task.done():  # (done: cancelled from outside while idle)
            host = proto.host = _Host(proto.loop)
        coro = proto.server.app(self.scope, self.receive, self.send)
        finished, error = host.run(coro)
        if host.spent:
            proto.host = None
        if finished:
            self.finish(error)
        else:
            self.task = host.task
            host.task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.finish(asyncio.CancelledError() if task.cancelled() else task.exception())
        self.proto.advance()

    def finish(self, exc: BaseException | None) -> None:
        """The app returned or raised: answer 500 if nothing was written yet, drop the connection if a
        response is half-written."""
        proto = self.proto
        proto.active = None
        if proto.transport.is_closing():
            return  # the client is gone (the app was cancelled) or the connection is being dropped
        if exc is not None:
            log.error("ASGI app failed on %s", self.scope["method"], exc_info=exc)
        elif not self.done:
            log.error("ASGI app returned without completing the response")
        if self.done:
            return
        if not self.written:
            proto.transport.write(_error_response(500, "Internal server error", self.head))
        proto.transport.close()

    # -- request body ------------------------------------------------------------------------------

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        self.wake()

    async def receive(self) -> dict[str, Any]:
        proto = self.proto
        if self.expect_continue:
            self.expect_continue = False
            if not self.complete and not self.written and not proto.closed:
                proto.transport.write(_CONTINUE)
        while not (proto.closed or self.done) and (self.delivered or not (self.chunks or self.complete)):
            self.waiter = proto.loop.create_future()
            await self.waiter
        if proto.closed or self.done:
            return {"type": _DISCONNECT}
        body = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        self.delivered = self.complete
        proto.flow()
        return {"type": "http.request", "body": body, "more_body": not self.complete}

    # -- response ----------------------------------------------------------------------------------

    async def send(self, message: MutableMapping[str, Any]) -> None:
        proto = self.proto
        if proto.write_paused and not proto.closed:
            await proto.drain()
        if proto.closed:
            return  # the client is gone; the app learns it from receive() or cancellation
        kind = message["type"]
        if kind == "http.response.body" and self.status and not self.done:
            self._body(message.get("body", b""), message.get("more_body", False))
        elif kind == ZEROCOPY and self.status and not self.done and ZEROCOPY in self.scope["extensions"]:
            await self._zerocopy(message["file"], message["offset"], message["count"], message.get("more_body", False))
        elif kind == "http.response.start" and not self.status:
            self.status = message["status"]
            self.headers = message.get("headers", ())
        elif kind == EARLY_HINT and not self.status:
            if self.scope["http_version"] == "1.1":  # never a 1xx to an HTTP/1.0 client (RFC 9110 §15.2)
                proto.transport.write(early_hints.head(message["links"]))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} in this state")

    async def _zerocopy(self, file: Any, offset: int, count: int, more: bool) -> None:
        """ASGI's zero-copy send (``count`` bytes of ``file`` from ``offset``; plain HTTP only): with
        ``os.sendfile`` straight from the file to the socket whenever the transport has nothing
        buffered, waiting for the socket to take more; the response needs a Content-Length."""
        proto = self.proto
        if not self.written:
            self._body(b"", True)  # the head alone
            if self.chunked:
                raise RuntimeError("a zero-copy response needs a Content-Length")
        if self.no_body:
            count = 0
        elif self.length is not None and self.sent + count > self.length:
            raise RuntimeError("response body longer than its Content-Length")
        fd, transport = file.fileno(), proto.transport
        while count > 0 and not proto.closed:
            if transport.get_write_buffer_size() == 0:
                try:
                    sent = os.sendfile(proto.socket_fd(), fd, offset, count)
                except (BlockingIOError, InterruptedError):
                    sent = -1
                except OSError:  # the peer reset the connection
                    transport.abort()
                    return
                if sent == 0:
                    raise RuntimeError("the file is shorter than the zero-copy send")
                if sent > 0:
                    offset, count, self.sent = offset + sent, count - sent, self.sent + sent
                    continue
            await proto.writable()  # the socket's buffer, or the transport's, is full
        if not more and not proto.closed:
            self._body(b"", False)

    def _body(self, body: bytes, more: bool) -> None:
        head = b"" if self.written else self._head(body, more)
        self.written = True
        if self.no_body:
            body = b""
        elif self.length is not None and self.sent + len(body) > self.length:
            raise RuntimeError("response body longer than its Content-Length")
        self.sent += len(body)
        transport = self.proto.transport
        if self.chunked:
            if body:
                transport.writelines((head + b"%x\r\n" % len(body), body, b"\r\n" if more else b"\r\n0\r\n\r\n"))
            else:
                transport.write(head if more else head + b"0\r\n\r\n")
        elif len(body) < _COPY_LIMIT:
            transport.write(head + body)
        else:
            transport.writelines((head, body))  # one send (asyncio joins them: one copy, freed once sent)
        if not more:
            if self.length is not None and self.sent < self.length and not self.no_body:
                self.keep_alive = False  # the client waits for bytes that will never come
            self.done = True
            self.wake()
            self.proto.response_complete(self)

    def _head(self, first: bytes, more: bool) -> bytes:
        """The status line and headers for the stored start message, knowing the first body chunk.

        Without Content-Length a single-chunk body gets one, a streamed one is chunked (HTTP/1.1) or
        delimited by closing the connection (HTTP/1.0).
        """
        status = self.status
        self.no_body = self.head or status < 200 or status in (204, 304)
        lines = [_status_line(status)]
        connection = None
        date = _Date.get()
        for name, value in self.headers:
            lname = name.lower()
            if lname == b"content-length":
                self.length = int(value)
            elif lname == b"connection":
                connection = value.lower()
                self.keep_alive = self.keep_alive and b"close" not in connection
            elif lname == b"date":
                date = b""  # the app's own (a cache's stored Date): never a second one
            lines += (name, b": ", value, b"\r\n")
        added = []
        if self.length is None and not self.no_body:
            if not more:
                self.length = len(first)
                added.append(b"content-length: %d\r\n" % self.length)
            elif self.scope["http_version"] == "1.1":
                self.chunked = True
                added.append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False
        if self.proto.shutting_down:
            self.keep_alive = False
        if connection is None or (not self.keep_alive and b"close" not in connection):
            if not self.keep_alive:
                added.append(b"connection: close\r\n")
            elif self.scope["http_version"] == "1.0":
                added.append(b"connection: keep-alive\r\n")
        head = b"".join((*lines, *added, date, b"\r\n"))
        # One line feed per line (status, headers, date, blank): a CR or LF inside a header would split
        # the response (header injection). Two C-level counts instead of a regex per header.
        expected = len(self.headers) + len(added) + (3 if date else 2)
        if head.count(b"\n") != expected or head.count(b"\r") != expected:
            raise RuntimeError("invalid character in a response header")
        return head


class HttpProtocol(asyncio.Protocol):
    """One client connection: parses requests with httptools and runs them one at a time, in order."""

    def __init__(self, server: Server | _UvicornHost) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set in connection_made
        self.client: tuple[str, int] | None = None
        self.sockname: tuple[str, int] | None = None
        self.queue: collections.deque[_Exchange] = collections.deque()  # parsed, waiting their turn
        self.active: _Exchange | None = None  # the exchange whose app runs
        self.parsing: _Exchange | None = None  # the exchange whose body the parser reads
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
        self.error = 0  # 400/431 to answer once the exchanges before it are done
        self.upgraded = False
        self.closed = False
        self.shutting_down = False
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.writable_waiter: asyncio.Future[None] | None = None  # zero-copy sends
        self._fd = -1  # a duplicate of the socket's descriptor, for os.sendfile and writability
        self.idle_since = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.linger: Linger | None = None  # answered before its body arrived: discarding the rest
        self.out: list[bytes] = []  # fast-path answers of this read, written in one go after parsing it
        self.out_size = 0  # their bytes: beyond WRITE_HIGH_WATER, requests take the slow path (backpressure)
        self.host: _Host | None = None  # the Task the next request runs in

    # -- transport events --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        transport.set_write_buffer_limits(WRITE_HIGH_WATER)
        peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        self.client = (peer[0], peer[1]) if isinstance(peer, tuple) else None  # IPv6 has 4 fields
        self.sockname = (local[0], local[1]) if isinstance(local, tuple) else None
        self.server.connections.add(self)
        self.idle_since = self.loop.time()
        self.timer = self.loop.call_later(self.server.keep_alive, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.host is not None:
            self.host.retire()
        self.server.forget(self)
        if self._fd >= 0:
            self._stop_waiting_writable()
            os.close(self._fd)
            self._fd = -1
        if self.timer is not None:
            self.timer.cancel()
        if self.linger is not None:
            self.linger.cancel()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)
        for exchange in self.queue:
            exchange.wake()
        self.queue.clear()
        active = self.active
        if active is not None:
            receiving = active.waiter is not None and not active.waiter.done()
            active.wake()
            # An app waiting in receive() learns of it the ASGI way (http.disconnect); one suspended
            # elsewhere while producing its response is cancelled, as it works for nobody now. One that
            # already answered keeps running: work after the response (metrics) must not die with the socket.
            if active.task is not None and not active.done and not receiving:
                active.task.cancel()

    def data_received(self, data: bytes) -> None:
        if self.linger is not None:
            self.linger.received()
            return
        if self.error or self.upgraded:
            return
        try:
            try:
                self.parser.feed_data(data)
            finally:
                if self.out:  # before anything else is written: pipelined answers stay in order
                    self._flush()
        except httptools.HttpParserUpgrade:
            self.upgraded = True  # the bytes after this request belong to a protocol we do not speak
            for exchange in (self.active, *self.queue):
                if exchange is not None:
                    exchange.keep_alive = False
        except httptools.HttpParserError as exc:
            self._bad_request(431 if isinstance(exc.__context__, _HeadTooLarge) else 400)
        self.advance()

    def socket_fd(self) -> int:
        """A descriptor of this connection's socket (a duplicate the protocol owns)."""
        if self._fd < 0:
            self._fd = os.dup(self.transport.get_extra_info("socket").fileno())
        return self._fd

    async def writable(self) -> None:
        """Return once the socket takes more bytes and the transport's buffer is empty (or the
        connection is gone)."""
        fd = self.socket_fd()
        while not self.closed:
            empty = self.transport.get_write_buffer_size() == 0
            self.writable_waiter = self.loop.create_future()
            self.loop.add_writer(fd, self._stop_waiting_writable)  # the transport flushes on it too
            await self.writable_waiter
            if empty:
                return

    def _stop_waiting_writable(self) -> None:
        self.loop.remove_writer(self._fd)
        if self.writable_waiter is not None and not self.writable_waiter.done():
            self.writable_waiter.set_result(None)

    def _flush(self) -> None:
        out = self.out
        self.out_size = 0
        if len(out) == 1:
            self.transport.write(out[0])
        else:
            self.transport.writelines(out)
        out.clear()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    async def drain(self) -> None:
        while self.write_paused and not self.closed:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter

    # -- httptools callbacks -----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.head_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))
        self._count(len(name) + len(value) + 4)

    def _count(self, size: int) -> None:
        self.head_size += size
        if self.head_size > MAX_HEAD:
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        parser = self.parser
        url = self.url
        if url[:1] == b"/":
            raw_path, _, query = url.partition(b"?")
        else:  # absolute-form (a proxy-style request line) or "*"
            parsed = httptools.parse_url(url)
            raw_path, query = parsed.path or b"/", parsed.query or b""
        server = self.server
        pending = None
        if server.fast is not None and self.active is None and not self.queue and not self.write_paused:
            if (
                self.out_size < WRITE_HIGH_WATER
                and not self.shutting_down
                and parser.should_keep_alive()
                and parser.get_http_version() == "1.1"
            ):
                answer = server.fast(parser.get_method(), raw_path, self.headers, self.client)
                if type(answer) is tuple:  # a cache hit answered without ASGI (edge.fastpath)
                    head, body = answer
                    if type(body) is bytes:
                        self.out_size += len(head) + len(body)
                        if len(body) < _COPY_LIMIT:
                            self.out.append(head + body)
                        else:
                            self.out += (head, body)
                    else:  # views of several cached slices, handed to the transport as they are
                        self.out_size += len(head) + sum(map(len, body))
                        self.out.append(head)
                        self.out += body
                    self.parsing = None
                    return
                pending = answer
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = unquote(path)
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": parser.get_http_version(),
            "method": parser.get_method().decode("ascii"),
            "scheme": server.scheme,
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": self.headers,
            "client": self.client,
            "server": self.sockname,
        }
        if server.state:
            scope["state"] = server.state.copy()
        scope["extensions"] = server.extensions if pending is None else {**server.extensions, FAST_PATH: pending}
        expect = any(n == b"expect" and v.lower() == b"100-continue" for n, v in self.headers)
        self.parsing = exchange = _Exchange(self, scope, parser.should_keep_alive(), expect)
        self.queue.append(exchange)

    def on_body(self, body: bytes) -> None:
        assert self.parsing is not None
        self.parsing.on_body(body)

    def on_message_complete(self) -> None:
        if self.parsing is not None:  # None: answered by the fast path
            self.parsing.complete = True
            self.parsing.wake()

    # -- scheduling --------------------------------------------------------------------------------

    def advance(self) -> None:
        """Start queued exchanges until one suspends; then answer a pending parse error, or go idle."""
        while self.active is None and self.queue and not self.transport.is_closing():
            self.active = self.queue.popleft()
            self.active.run()  # eager: usually finishes (and clears self.active) right here
        if self.active is None and not self.transport.is_closing():
            if self.error:
                self.transport.write(_error_response(self.error, HTTPStatus(self.error).phrase))
                self.transport.close()
            elif self.shutting_down:
                self.transport.close()
            else:
                self.idle_since = self.loop.time()
        self.flow()

    def flow(self) -> None:
        """Pause reading while requests wait their turn or an unread body is large; resume after."""
        parsing = self.parsing
        unread = parsing is not None and not parsing.complete and parsing.buffered > READ_LIMIT
        full = bool(self.queue) or bool(self.error) or unread
        if full != self.read_paused and not self.closed:
            self.read_paused = full
            if full:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def response_complete(self, exchange: _Exchange) -> None:
        # An unread request body leaves the parser mid-message: the connection cannot be reused, and
        # closing it outright would reset the answer away (mediaedge.linger).
        if not exchange.complete:
            self.parsing = None
            self.linger = Linger(self.transport, self.loop)
        elif not exchange.keep_alive:
            self.transport.close()

    def _bad_request(self, status: int) -> None:
        """A request the parser refused: answered after the exchanges before it; an app still reading
        that request's body loses its connection."""
        self.error = status
        if self.parsing is not None and not self.parsing.complete:
            if self.parsing is self.active:
                self.transport.close()
            else:
                self.queue.remove(self.parsing)
            self.parsing = None

    def _check_idle(self) -> None:
        """Close the connection once it has been idle for ``keep_alive`` seconds; checked lazily so
        requests need not re-arm a timer each."""
        idle = self.loop.time() - self.idle_since
        busy = self.active is not None or bool(self.queue)
        if not busy and idle >= self.server.keep_alive:
            self.transport.close()
        else:
            self.timer = self.loop.call_later(self.server.keep_alive - (0 if busy else idle), self._check_idle)

    def shutdown(self) -> None:
        """Close now if idle; otherwise after the response in flight."""
        self.shutting_down = True
        if self.active is None and not self.queue:
            self.transport.close()


def _extensions(tls: bool) -> dict[str, Any]:
    """The ASGI extensions a connection offers: early hints; zero copy on plain HTTP."""
    return {EARLY_HINT: {}} if tls else {EARLY_HINT: {}, ZEROCOPY: {}}


class _Lifespan:
    """The app's lifespan protocol: startup before serving, shutdown after. An app that returns
    instead of answering does not use lifespan; one that raises or reports failure stops the server."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reply: asyncio.Future[MutableMapping[str, Any]] | None = None
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}, "state": state}
        self.task = asyncio.create_task(app(scope, self.inbox.get, self._send))

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if self.reply is not None and not self.reply.done():
            self.reply.set_result(message)

    async def call(self, phase: str) -> None:
        """Send ``lifespan.{phase}`` and wait for the app's answer."""
        if self.task.done():
            return
        self.reply = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait({"type": f"lifespan.{phase}"})
        await asyncio.wait((self.reply, self.task), return_when=asyncio.FIRST_COMPLETED)
        if self.reply.done():
            message = self.reply.result()
            if message["type"] == f"lifespan.{phase}.failed":
                raise RuntimeError(f"lifespan {phase} failed: {message.get('message', '')}")
        elif (exc := self.task.exception()) is not None:
            raise RuntimeError(f"lifespan {phase} failed") from exc
        else:
            self.reply.cancel()


class Server:
    """Serve ``app`` on listening sockets in the running loop: ``await start(sock)``, ``await stop()``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        ssl_context: ssl.SSLContext | None = None,
        keep_alive: float = KEEP_ALIVE,
        fast_path: bool = True,
    ) -> None:
        self.app = app
        #: ``app.fast_path.answer`` (see :mod:`edge.fastpath`): answers cache hits before ASGI.
        self.fast: FastAnswer | None = getattr(getattr(app, "fast_path", None), "answer", None) if fast_path else None
        self.ssl = ssl_context
        self.scheme = "https" if ssl_context else "http"
        self.extensions: dict[str, Any] = _extensions(bool(ssl_context))  # shared by every scope
        self.keep_alive = keep_alive
        self.state: dict[str, Any] = {}
        self.connections: set[HttpProtocol] = set()
        self.loop = asyncio.get_running_loop()
        self._lifespan: _Lifespan | None = None
        self._servers: list[asyncio.Server] = []
        self._emptied: asyncio.Future[None] | None = None  # set by stop(), resolved when the last connection goes

    def forget(self, proto: HttpProtocol) -> None:
        self.connections.discard(proto)
        if not self.connections and self._emptied is not None and not self._emptied.done():
            self._emptied.set_result(None)

    async def start(self, sock: socket.socket) -> None:
        """Run lifespan startup (once), then accept connections on ``sock``."""
        if self._lifespan is None:
            self._lifespan = _Lifespan(self.app, self.state)
            await self._lifespan.call("startup")
        server = await self.loop.create_server(lambda: HttpProtocol(self), sock=sock, ssl=self.ssl, backlog=BACKLOG)
        self._servers.append(server)

    async def stop(self, grace: float = GRACE) -> None:
        """Stop accepting, let in-flight requests finish for up to ``grace`` seconds, close every
        connection, then run lifespan shutdown."""
        for server in self._servers:
            server.close()
        for proto in list(self.connections):
            proto.shutdown()
        if self.connections:
            self._emptied = self.loop.create_future()
            await asyncio.wait((self._emptied,), timeout=grace)
        tasks = [p.active.task for p in self.connections if p.active is not None and p.active.task is not None]
        for proto in list(self.connections):
            proto.transport.abort()  # connection_lost cancels what is still running
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for server in self._servers:
            await server.wait_closed()
        if self._lifespan is not None:
            await self._lifespan.call("shutdown")
            if not self._lifespan.task.done():
                self._lifespan.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._lifespan.task


class _UvicornHost:
    """What :class:`HttpProtocol` needs of its server, from uvicorn's config and server state."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], loop: asyncio.AbstractEventLoop):
        self.app: ASGIApp = config.loaded_app
        self.fast: FastAnswer | None = getattr(getattr(self.app, "fast_path", None), "answer", None)
        self.scheme = "https" if config.is_ssl else "http"
        self.extensions: dict[str, Any] = _extensions(config.is_ssl)
        self.keep_alive = config.timeout_keep_alive
        self.state = app_state
        self.loop = loop
        self.connections: set[Any] = server_state.connections  # uvicorn's shutdown waits for them

    def forget(self, proto: HttpProtocol) -> None:
        self.connections.discard(proto)


class UvicornProtocol(HttpProtocol):
    """:class:`HttpProtocol` as uvicorn's ``http=`` class: uvicorn binds, supervises the workers
    (``workers=N``), runs the lifespan and shuts down gracefully (each connection's :meth:`shutdown`,
    then waiting for them to close); this protocol parses and answers. uvicorn's ``limit_concurrency``
    and ``limit_max_requests`` are not applied to it."""

    alpn_protocols = ["http/1.1"]  # what uvicorn's TLS context offers

    def __init__(
        self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        if not config.loaded:
            config.load()
        super().__init__(_UvicornHost(config, server_state, app_state, _loop or asyncio.get_event_loop()))
