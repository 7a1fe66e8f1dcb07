"""The lean HTTP/1.1 server (edge/http1.py) over real loopback TCP connections."""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import orjson
import pytest

from edge import http1

pytestmark = pytest.mark.anyio

App = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]
SEED_500 = {"statusCode": 500, "message": "Internal server error", "error": "InternalServerError"}


@asynccontextmanager
async def serving(app: App, **options: Any) -> AsyncIterator[tuple[http1.Server, int]]:
    """``app`` on a free loopback port in this test's event loop; always stopped."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = http1.Server(app, **options)
    await server.start(sock)
    try:
        yield server, sock.getsockname()[1]
    finally:
        await server.stop(grace=1)


def respond(body: bytes, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> App:
    """An app answering every request with ``body``, never suspending."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers or []})
            await send({"type": "http.response.body", "body": body})

    return app


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the scope's request fields and the request body as JSON."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message["body"]
        if not message["more_body"]:
            break
    fields = {k: scope[k] for k in ("method", "path", "http_version", "scheme", "root_path", "client", "server")}
    fields |= {"raw_path": scope["raw_path"].decode(), "query": scope["query_string"].decode(), "body": body.decode()}
    fields["headers"] = [[n.decode(), v.decode()] for n, v in scope["headers"]]
    data = orjson.dumps(fields)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(data))]})
    await send({"type": "http.response.body", "body": data})


async def raw(port: int, data: bytes, *, then: bytes = b"") -> bytes:
    """Send ``data`` (and ``then`` after the first response bytes arrive), read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        received = b""
        if then:
            received = await reader.read(65536)
            writer.write(then)
        return received + await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def responses(data: bytes) -> list[tuple[int, dict[bytes, bytes], bytes]]:
    """Split Content-Length-framed responses: (status, headers, body) each."""
    found = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.split(b"\r\n")
        headers = dict(line.split(b": ", 1) for line in lines)
        length = int(headers.get(b"content-length", b"0"))
        found.append((int(status_line.split()[1]), headers, data[:length]))
        data = data[length:]
    return found


# -- requests and responses --------------------------------------------------------------------------


async def test_get_head_and_scope() -> None:
    async with serving(echo) as (_, port), httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/a%20b/c?x=1&y=%20", headers={"X-Thing": "Yes"})
        assert r.status_code == 200 and r.headers["date"]
        got = r.json()
        assert (got["method"], got["path"], got["raw_path"], got["query"]) == ("GET", "/a b/c", "/a%20b/c", "x=1&y=%20")
        assert (got["http_version"], got["scheme"], got["root_path"], got["body"]) == ("1.1", "http", "", "")
        assert got["client"][0] == "127.0.0.1" and got["server"] == ["127.0.0.1", port]
        assert ["x-thing", "Yes"] in got["headers"]
        head = await client.head(f"http://127.0.0.1:{port}/x")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 0  # the GET's length, no body


async def test_post_bodies_content_length_and_chunked() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    async with serving(echo) as (_, port), httpx.AsyncClient() as client:
        r = await client.post(f"http://127.0.0.1:{port}/p", content=b"x" * 100_000)
        assert r.json()["body"] == "x" * 100_000
        r = await client.post(f"http://127.0.0.1:{port}/p", content=chunks())
        assert ["transfer-encoding", "chunked"] in r.json()["headers"]
        assert r.json()["body"] == "one,two,three"


async def test_keep_alive_reuses_the_connection() -> None:
    async with serving(echo) as (_, port), httpx.AsyncClient() as client:
        ports = {tuple((await client.get(f"http://127.0.0.1:{port}/{i}")).json()["client"]) for i in range(5)}
    assert len(ports) == 1


async def test_pipelined_requests_answered_in_order() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        for _ in range(10 - 4 * int(scope["path"][-1])):  # the first request suspends the longest
            await asyncio.sleep(0)
        await respond(scope["path"].encode())(scope, receive, send)

    async with serving(app) as (_, port):
        data = await raw(
            port,
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /0 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
    assert [(status, body) for status, _, body in responses(data)] == [(200, b"/1"), (200, b"/2"), (200, b"/0")]


async def test_expect_100_continue_is_answered_when_the_body_is_read() -> None:
    async with serving(echo) as (_, port):
        data = await raw(
            port,
            b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            then=b"hello",
        )
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert orjson.loads(responses(data.split(b"\r\n\r\n", 1)[1])[0][2])["body"] == "hello"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (http1.MAX_HEAD + 1) + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * (http1.MAX_HEAD + 1) + b" HTTP/1.1\r\n\r\n", 431),
    ],
    ids=["header-syntax", "request-line", "chunk-size", "header-size", "url-size"],
)
async def test_bad_requests_are_refused_and_closed(request_bytes: bytes, status: int) -> None:
    async with serving(echo) as (_, port):
        ((got, headers, body),) = responses(await raw(port, request_bytes))  # read() returning means closed
    assert (got, headers[b"connection"]) == (status, b"close")
    assert orjson.loads(body)["statusCode"] == status


async def test_bad_request_after_a_good_one_is_answered_after_it() -> None:
    async with serving(respond(b"ok")) as (_, port):
        data = await raw(port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n")
    assert [(s, b) for s, _, b in responses(data)][0] == (200, b"ok")
    assert responses(data)[1][0] == 400


async def test_http_1_0_and_connection_close() -> None:
    async with serving(respond(b"ok")) as (_, port):
        ((status, headers, body),) = responses(await raw(port, b"GET / HTTP/1.0\r\n\r\n"))
        assert (status, headers[b"connection"], body) == (200, b"close", b"ok")
        data = await raw(port, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
        (_, first, _), (_, second, _) = responses(data)
        assert (first[b"connection"], second[b"connection"]) == (b"keep-alive", b"close")
        data = await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        assert [s for s, _, _ in responses(data)] == [200]  # closed after the first


async def test_response_framing_without_content_length() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        if scope["path"] == "/stream":
            for part in (b"a" * 10, b"", b"b" * 20):
                await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"end"})

    async with serving(app) as (_, port), httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/stream")
        assert (r.headers["transfer-encoding"], r.content) == ("chunked", b"a" * 10 + b"b" * 20 + b"end")
        r = await client.get(f"http://127.0.0.1:{port}/one")
        assert (r.headers["content-length"], "transfer-encoding" in r.headers) == ("3", False)
        head = await client.head(f"http://127.0.0.1:{port}/stream")
        assert head.content == b"" and "transfer-encoding" not in head.headers
        # HTTP/1.0 cannot chunk: the end of the body is the end of the connection
        data = await raw(port, b"GET /stream HTTP/1.0\r\n\r\n")
        assert data.endswith(b"\r\n\r\n" + b"a" * 10 + b"b" * 20 + b"end") and b"connection: close" in data


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses(status: int) -> None:
    async with serving(respond(b"ignored", status)) as (_, port):
        data = await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 %d " % status) and data.endswith(b"\r\n\r\n")
    assert b"content-length" not in data and b"transfer-encoding" not in data


async def test_upgrade_requests_are_answered_normally_then_closed() -> None:
    async with serving(respond(b"plain")) as (_, port):
        data = await raw(port, b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")
    ((status, headers, body),) = responses(data)
    assert (status, headers[b"connection"], body) == (200, b"close", b"plain")


async def test_idle_keep_alive_connections_are_closed() -> None:
    async with serving(respond(b"ok"), keep_alive=0.05) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        assert (await reader.read()).endswith(b"ok")  # EOF: the server closed the idle connection
        writer.close()
        await writer.wait_closed()


# -- app errors ---------------------------------------------------------------------------------------


async def _fail_before_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise ValueError("boom")


async def _fail_after_suspending(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await asyncio.sleep(0)
    raise ValueError("boom")


async def _no_response(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await asyncio.sleep(0)


async def _start_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ValueError("the head was never written")


async def _bad_header(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await respond(b"x", headers=[(b"x-injected", b"a\r\nset-cookie: evil=1")])(scope, receive, send)


@pytest.mark.parametrize("app", [_fail_before_start, _fail_after_suspending, _no_response, _start_only, _bad_header])
async def test_app_failures_before_the_response_are_500(app: App) -> None:
    async def lifespan_aware(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await app(scope, receive, send)

    async with serving(lifespan_aware) as (_, port):
        ((status, headers, body),) = responses(await raw(port, b"GET / HTTP/1.1\r\n\r\n"))
        head = await raw(port, b"HEAD / HTTP/1.1\r\n\r\n")
    assert (status, headers[b"connection"], orjson.loads(body)) == (500, b"close", SEED_500)
    assert head.endswith(b"\r\n\r\n") and b"set-cookie" not in head


async def test_app_failure_after_the_response_started_drops_the_connection() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            await asyncio.sleep(0)
            raise ValueError("origin went away")

    async with serving(app) as (_, port):
        data = await raw(port, b"GET / HTTP/1.1\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"\r\n\r\npartial")  # truncated, then EOF


async def test_short_body_closes_the_connection() -> None:
    async with serving(respond(b"short", headers=[(b"content-length", b"10")])) as (_, port):
        data = await raw(port, b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert data.endswith(b"\r\n\r\nshort") and data.count(b"HTTP/1.1 200") == 1


# -- eager execution -----------------------------------------------------------------------------------


@asynccontextmanager
async def counting_tasks() -> AsyncIterator[list[object]]:
    """Every coroutine the running loop makes a Task of, while inside."""
    loop = asyncio.get_running_loop()
    created: list[object] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


async def _suspend_once(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await asyncio.sleep(0)
        await respond(b"ok")(scope, receive, send)


@pytest.mark.parametrize(("app", "tasks"), [(respond(b"ok"), 1), (_suspend_once, 3)], ids=["never", "once"])
async def test_a_task_per_connection_and_per_request_that_suspends(app: App, tasks: int) -> None:
    async with serving(app) as (server, port):
        async with counting_tasks() as created:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\n\r\n" * 2 + b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            data = await reader.read()
        writer.close()
        await writer.wait_closed()
    assert [s for s, _, _ in responses(data)] == [200, 200, 200]
    assert len([c for c in created if isinstance(c, http1._Host)]) == tasks


_request_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_var", default="unset")


async def test_the_app_runs_in_a_current_task_from_its_first_step() -> None:
    """What anyio/httpx need: a current task before the first suspension and the same one after it, a
    cancel scope entered before and left after a suspension; and context variables set by one request
    (answered without suspending, or not) invisible to the next."""
    seen: list[tuple[str, object, object, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        before = asyncio.current_task()
        previous = _request_var.get()
        _request_var.set(scope["path"])
        with anyio.fail_after(5):  # a cancel scope: anyio keys its state by the current task
            if scope["path"] == "/suspend":
                await anyio.sleep(0)
        seen.append((scope["path"], before, asyncio.current_task(), previous))
        await respond(b"ok")(scope, receive, send)

    requests = [
        b"GET /hit HTTP/1.1\r\n\r\n",
        b"GET /hit HTTP/1.1\r\n\r\n",
        b"GET /suspend HTTP/1.1\r\n\r\n",
        b"GET /hit HTTP/1.1\r\nConnection: close\r\n\r\n",
    ]
    async with serving(app) as (_, port):
        data = await raw(port, b"".join(requests))
    assert [s for s, _, _ in responses(data)] == [200] * 4
    assert [path for path, _, _, _ in seen] == ["/hit", "/hit", "/suspend", "/hit"]
    for _, before, after, previous in seen:
        assert isinstance(before, asyncio.Task) and before is after
        assert previous == "unset"


async def test_an_app_cancelling_its_task_without_suspending_leaves_the_next_request_alone() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        task = asyncio.current_task()
        assert task is not None
        if scope["path"] == "/cancel":
            task.cancel()  # delivered at its next suspension, which never comes
            await respond(b"cancelled")(scope, receive, send)
            return
        await asyncio.sleep(0)  # the next request suspends: a pending cancellation would hit it here
        await respond(b"%d" % task.cancelling())(scope, receive, send)

    async with serving(app) as (_, port):
        data = await raw(port, b"GET /cancel HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert [(s, b) for s, _, b in responses(data)] == [(200, b"cancelled"), (200, b"0")]


async def test_suspended_app_gets_results_and_exceptions_of_what_it_awaits() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        loop = asyncio.get_running_loop()
        total = 0
        for i in range(50):  # results of futures resolved later, and bare yields
            future: asyncio.Future[int] = loop.create_future()
            loop.call_soon(future.set_result, i)
            total += await future
            await asyncio.sleep(0)
        failing: asyncio.Future[int] = loop.create_future()
        loop.call_soon(failing.set_exception, KeyError("thrown in"))
        try:
            await failing
        except KeyError as exc:
            await respond(f"{total} {exc}".encode())(scope, receive, send)

    async with serving(app) as (_, port):
        ((status, _, body),) = responses(await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
    assert (status, body) == (200, b"1225 'thrown in'")


async def test_an_idle_connection_task_cancelled_from_outside_is_replaced() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/suspend":
            await asyncio.sleep(0)
        await respond(b"ok")(scope, receive, send)

    async with serving(app) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")  # answered without suspending: its Task stays, idle
        assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
        (proto,) = server.connections
        deadline = time.monotonic() + 5
        while proto.host is None or proto.host.slot is None:  # until that Task parks
            assert time.monotonic() < deadline
            await asyncio.sleep(0)
        proto.host.task.cancel()  # e.g. a plugin cancelling every task
        with pytest.raises(asyncio.CancelledError):
            await proto.host.task
        writer.write(b"GET /suspend HTTP/1.1\r\nConnection: close\r\n\r\n")  # needs a live Task
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        await writer.wait_closed()
    assert [(s, b) for s, _, b in responses(data)] == [(200, b"ok")]


async def test_adopted_coroutine_cancelled_before_its_first_task_step() -> None:
    loop = asyncio.get_running_loop()
    awaited: asyncio.Future[None] = loop.create_future()
    seen: list[str] = []

    async def app() -> None:
        try:
            await awaited
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    stepped: asyncio.Future[http1._Host] = loop.create_future()

    def step() -> None:  # as from the protocol's callbacks: no Task is current there
        host = http1._Host(loop)
        assert host.run(app()) == (False, None)
        host.task.cancel()
        stepped.set_result(host)

    loop.call_soon(step)
    host = await stepped
    with pytest.raises(asyncio.CancelledError):
        await host.task
    assert seen == ["cancelled"] and awaited.cancelled()  # as if a Task had run it from the start


async def test_client_gone_cancels_a_suspended_app_and_the_server_carries_on() -> None:
    started, finished = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/wait":
            started.set()
            try:
                await asyncio.get_running_loop().create_future()  # never resolved
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise
            finally:
                finished.set()
        await respond(b"fine")(scope, receive, send)

    async with serving(app) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /wait HTTP/1.1\r\n\r\n")
        await started.wait()
        writer.close()
        await writer.wait_closed()
        await finished.wait()
        assert outcome == ["cancelled"]
        ((status, _, body),) = responses(await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
        assert (status, body) == (200, b"fine")


async def test_client_gone_mid_request_body_is_a_disconnect() -> None:
    messages: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        try:
            while not messages or messages[-1]["type"] != "http.disconnect":
                messages.append(await receive())
        finally:
            done.set()

    async with serving(app) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n0123456789")
        await writer.drain()
        while not messages:
            await asyncio.sleep(0)
        writer.close()
        await writer.wait_closed()
        await done.wait()
    assert messages[0] == {"type": "http.request", "body": b"0123456789", "more_body": True}
    assert messages[-1] == {"type": "http.disconnect"}


async def test_receive_after_the_response_is_a_disconnect() -> None:
    after: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            assert (await receive())["type"] == "http.request"
            await respond(b"ok")(scope, receive, send)
            after.append(await receive())

    async with serving(app) as (_, port):
        await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert after == [{"type": "http.disconnect"}]


# -- flow control ---------------------------------------------------------------------------------------


async def test_streamed_response_waits_for_a_slow_reader() -> None:
    chunk, count = b"x" * 2**20, 64
    buffered: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        (proto,) = server.connections
        headers = [(b"content-length", b"%d" % (len(chunk) * count))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i in range(count):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < count - 1})
            buffered.append(proto.transport.get_write_buffer_size())

    async with serving(app) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**16)
        writer.write(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        received = 0
        while piece := await reader.read(2**16):
            received += len(piece)
            await asyncio.sleep(0)
        writer.close()
        await writer.wait_closed()
    assert received > len(chunk) * count
    # Without backpressure the app would never suspend and all 64 MiB would sit in the buffer.
    assert max(buffered) <= http1.WRITE_HIGH_WATER + len(chunk)


async def test_unread_request_body_pauses_reading() -> None:
    most: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        (proto,) = server.connections
        size = 0
        while True:
            for _ in range(20):  # a slow consumer: the client gets ahead of it
                await asyncio.sleep(0)
            assert proto.parsing is not None
            most.append(proto.parsing.buffered)
            message = await receive()
            size += len(message["body"])
            if not message["more_body"]:
                break
        await respond(b"%d" % size)(scope, receive, send)

    async with serving(app) as (server, port), httpx.AsyncClient() as client:
        r = await client.post(f"http://127.0.0.1:{port}/", content=os.urandom(8 * 2**20))
    assert r.content == b"%d" % (8 * 2**20)
    assert max(most) <= http1.READ_LIMIT + 256 * 1024  # one socket read past the limit at most


# -- lifespan, shutdown, processes ------------------------------------------------------------------------


async def test_lifespan_runs_around_serving_and_shares_its_state() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["pool"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await respond(scope["state"]["pool"].encode())(scope, receive, send)

    async with serving(app) as (_, port):
        ((_, _, body),) = responses(await raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
        assert (body, events) == (b"ready", ["lifespan.startup"])
    assert events == ["lifespan.startup", "lifespan.shutdown"]


async def test_lifespan_startup_failure_stops_the_server() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no cache"})

    with socket.create_server(("127.0.0.1", 0)) as sock, pytest.raises(RuntimeError, match="no cache"):
        await http1.Server(app).start(sock)


async def test_stop_lets_the_request_in_flight_finish() -> None:
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await release.wait()
            await respond(b"finished")(scope, receive, send)

    sock = socket.create_server(("127.0.0.1", 0))
    server = http1.Server(app)
    await server.start(sock)
    reader, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    await writer.drain()
    while not any(p.active for p in server.connections):
        await asyncio.sleep(0)
    stopping = asyncio.create_task(server.stop(grace=30))
    await asyncio.sleep(0)
    release.set()
    ((status, headers, body),) = responses(await reader.read())
    await stopping
    writer.close()
    await writer.wait_closed()
    assert (status, headers[b"connection"], body) == (200, b"close", b"finished")
