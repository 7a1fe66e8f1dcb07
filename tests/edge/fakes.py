"""Test doubles for the edge app: a cache implementing the ``edge.cache`` interface, an origin for
JWKS and tenant policy (an ``httpx.MockTransport``), and a raw ASGI caller for paths httpx would
normalise."""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from edge import fastpath
from edge.cache import ObjectChanged, ObjectMeta, ObjectNotFound, OriginError
from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.tokens import SigningKey, jwks, sign_token

PUBLIC = "t1/u1/videos/clip.mp4"
SIGNED = "t1/u1/private/lecture.mp4"
PLAYLIST = "t1/u1/hls/master.m3u8"
SEGMENT = "t1/u1/hls/720p/seg-001.ts"
WL_PUBLIC = "t2/u1/a.mp4"  # tenant t2 has whitelists
WL_SIGNED = "t2/u1/b.mp4"
DATA = bytes(range(256)) * 8  # 2048 bytes
#: The file id of each object the ``cache`` fixture holds; :func:`token_for` binds exact tokens to it.
FILE_IDS = {PUBLIC: "f1", SIGNED: "f2", PLAYLIST: "f3", SEGMENT: "f4", WL_PUBLIC: "f5", WL_SIGNED: "f6"}

TENANTS = {
    "t1": {"whitelisted_domains": [], "app_ids": []},
    "t2": {"whitelisted_domains": ["allowed.com", "https://*.partner.com/"], "app_ids": ["com.example.app"]},
}

SECRET = "test-edge-secret"
ORIGIN = "http://origin.test"
LAST_MODIFIED = 1_700_000_000.0


def make_meta(
    key: str,
    data: bytes,
    *,
    access: str = "public",
    file_id: str = "f1",
    asset_id: str = "",
    tenant_id: str | None = None,
    content_type: str = "",
    last_modified: float = LAST_MODIFIED,
) -> ObjectMeta:
    return ObjectMeta(
        key=key,
        size=len(data),
        etag=f'"{hashlib.sha256(data + key.encode()).hexdigest()[:16]}"',
        last_modified=last_modified,
        content_type=content_type,
        cache_control="public, max-age=60",
        file_id=file_id,
        asset_id=asset_id,
        tenant_id=tenant_id or key.split("/", 1)[0],
        access=access,
        fetched_at=time.time(),
    )


class FakeCache:
    """In-memory objects. ``fast`` decides whether ``read_fast`` answers; ``status`` is what lookups
    report; ``fail_reads``/``change_reads`` make the next reads raise."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[ObjectMeta, bytes]] = {}
        self.fast = True
        self.status = "hit"
        self.chunk = 100
        self.fail_reads = 0
        self.change_reads = 0
        self.lookup_error: Exception | None = None
        self.purged: list[tuple[str, bool]] = []
        self.lookups: list[str] = []
        self.started = self.closed = False
        self.stats: dict[str, int] = {"memory.hit": 3, "memory.miss": 1, "lookup.stale": 0, "coalesced": 2}

    def add(self, key: str, data: bytes, **meta: Any) -> ObjectMeta:
        obj = make_meta(key, data, **meta)
        self.objects[key] = (obj, data)
        return obj

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def lookup(self, key: str) -> tuple[ObjectMeta, str]:
        self.lookups.append(key)
        if self.lookup_error is not None:
            raise self.lookup_error
        if key not in self.objects:
            raise ObjectNotFound()
        return self.objects[key][0], self.status

    def lookup_fast(self, key: str) -> ObjectMeta | None:
        if self.lookup_error is not None or self.status != "hit" or key not in self.objects:
            return None
        return self.objects[key][0]

    def _bytes(self, meta: ObjectMeta, start: int, end: int) -> bytes:
        stored, data = self.objects[meta.key]
        assert stored is meta, "read of a version the cache no longer has"
        assert 0 <= start <= end < meta.size
        return data[start : end + 1]

    async def read(self, meta: ObjectMeta, start: int, end: int) -> AsyncIterator[bytes]:
        if self.change_reads:
            self.change_reads -= 1
            data = self.objects[meta.key][1]
            self.objects[meta.key] = (make_meta(meta.key, data, access=meta.access, file_id=meta.file_id), data)
            raise ObjectChanged()
        data = self._bytes(meta, start, end)
        for offset in range(0, len(data), self.chunk):
            await asyncio.sleep(0)  # like disk or network I/O
            if self.fail_reads and offset:
                self.fail_reads -= 1
                raise OriginError("origin went away")
            yield data[offset : offset + self.chunk]

    def read_fast(self, meta: ObjectMeta, start: int, end: int) -> bytes | None:
        return self._bytes(meta, start, end) if self.fast else None

    read_held = read_fast

    def tiers(self) -> dict[str, dict[str, int]]:
        held = sum(len(data) for _, data in self.objects.values())
        return {"memory": {"bytes": held, "entries": len(self.objects), "limit": 1 << 30}}

    def open_fast(self, meta: ObjectMeta, start: int, end: int) -> None:
        return None  # no disk tier

    async def purge(self, key: str, prefix: bool = False) -> int:
        self.purged.append((key, prefix))
        hits = [k for k in self.objects if (k.startswith(key) if prefix else k == key)]
        for k in hits:
            del self.objects[k]
        return len(hits)

    def histogram(self) -> dict[str, Any]:
        return {"buckets": [(0.01, 1), (0.1, 3), (math.inf, 4)], "sum": 0.5, "count": 4}


@dataclass
class FakeOrigin:
    """``/.well-known/jwks.json``, ``/_edge/tenants/{id}``, ``/_edge/register`` and ``/_edge/usage`` as the
    origin serves them (usage reports are kept in ``usage_reports``)."""

    keys: list[SigningKey]
    tenants: dict[str, dict[str, list[str]]]
    requests: list[str] = field(default_factory=list)
    registrations: list[dict[str, str]] = field(default_factory=list)
    usage_reports: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("origin down", request=request)
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json=jwks(self.keys))
        if request.url.path == "/_edge/register":
            self.registrations.append(orjson.loads(request.content))
            return httpx.Response(200, json={"heartbeat": 30})
        if request.url.path == "/_edge/usage":
            if request.headers.get(EDGE_SECRET_HEADER) != SECRET:
                return httpx.Response(401, json={"statusCode": 401})
            self.usage_reports.append(orjson.loads(request.content))
            return httpx.Response(200, json={"stored": len(self.usage_reports[-1]["counters"])})
        if request.url.path.startswith("/_edge/tenants/"):
            if request.headers.get(EDGE_SECRET_HEADER) != SECRET:
                return httpx.Response(401, json={"statusCode": 401})
            tenant_id = request.url.path.rsplit("/", 1)[1]
            if tenant_id not in self.tenants:
                return httpx.Response(404, json={"statusCode": 404})
            return httpx.Response(200, json={"id": tenant_id, **self.tenants[tenant_id]})
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def count(self, path_prefix: str) -> int:
        return sum(1 for p in self.requests if p.startswith(path_prefix))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


async def call(
    app: Any,
    method: str,
    raw_path: bytes,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    fast: bool = False,
) -> Reply:
    """Drive the ASGI app with an exact ``raw_path`` (httpx would normalise dot segments). With
    ``fast``, as the lean server does: the app's fast path first (:mod:`edge.fastpath`), then the
    app with the fast path's pending entry."""
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    answer = None
    if fast and not body:
        answer = fast_answer(app, method, raw_path, raw_headers, client)
        if isinstance(answer, Reply):
            return answer
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": client,
        "server": ("edge.test", 80),
    }
    if answer is not None:
        scope["extensions"] = {fastpath.EXTENSION: answer}
    messages: list[dict[str, Any]] = []
    requests = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    reply_headers = _joined(messages[0]["headers"])
    return Reply(messages[0]["status"], reply_headers, b"".join(m.get("body", b"") for m in messages[1:]))


def _joined(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        joined[key] = f"{joined[key]}, {text}" if key in joined else text
    return joined


def parse_fast(head: bytes, body: bytes, method: str) -> Reply:
    """The answer the lean server writes for a fast-path ``(head, body)``, parsed back: one status
    line, header lines with exactly one Date, the blank line, a body as long as its Content-Length."""
    lines = head.split(b"\r\n")
    assert lines[-2:] == [b"", b""], "the head ends with a blank line"
    del lines[-2:]
    assert [line[:6].lower() for line in lines].count(b"date: ") == 1, "exactly one Date"
    version, status, _ = lines[0].split(b" ", 2)
    assert version == b"HTTP/1.1"
    fields = [tuple(line.split(b": ", 1)) for line in lines[1:]]
    assert all(len(f) == 2 and f[0] == f[0].lower() for f in fields), fields
    reply = Reply(int(status), _joined(fields), body)  # type: ignore[arg-type]
    if method == "GET" and reply.status != 304:
        assert int(reply.headers["content-length"]) == len(body)
    else:
        assert body == b""
    return reply


def drop_added_date(fast: Reply, slow: Reply) -> Reply:
    """``fast``, a fast-path answer, as it would be over ASGI (where no server adds a Date): without
    its Date unless ``slow``, the app's answer over ASGI, had one of its own (which must be replayed)."""
    if "date" not in slow.headers:
        fast.headers.pop("date")
    return fast


def fast_answer(
    app: Any, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None
) -> Reply | fastpath.Pending | None:
    """What ``app``'s fast path does with a request: its answer parsed (:func:`parse_fast`), else
    the pending entry for the app to fill (None: the fast path never answers this request)."""
    if app.fast_path is None:
        return None
    answer = app.fast_path.answer(method.encode(), raw_path.partition(b"?")[0], headers, client)
    if isinstance(answer, tuple):
        return parse_fast(*answer, method)
    return answer


class FastPathTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport to an :class:`~edge.app.EdgeApp` going the way the lean server goes:
    the app's fast path first (:func:`fast_answer`), then ASGI with the pending entry. ``hits``
    counts the answers of the fast path.

    So that every test checks the fast path, not only those repeating a request: an answer the app
    has just recorded is replayed at once (:meth:`edge.fastpath.FastPath.peek`, which counts
    nothing) and must be the slow path's answer, with the Date the lean server adds to an answer
    without one (:func:`drop_added_date`); the replay is what the test gets.
    """

    def __init__(self, app: Any, client: tuple[str, int]) -> None:
        self.app = app
        self.client = client
        self.hits = 0
        self.replays = 0
        self._pending: fastpath.Pending | None = None
        self._asgi = httpx.ASGITransport(app=self._app, client=client)

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._pending is not None and scope["type"] == "http":
            scope["extensions"] = {fastpath.EXTENSION: self._pending}
        await self.app(scope, receive, send)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._pending = None
        headers = [(name.lower(), value) for name, value in request.headers.raw]
        answer = fast_answer(self.app, request.method, request.url.raw_path, headers, self.client)
        if isinstance(answer, Reply):  # the fast path refuses requests with a body, as on the server
            self.hits += 1
            return httpx.Response(answer.status, headers=list(answer.headers.items()), content=answer.body)
        self._pending = answer
        response = await self._asgi.handle_async_request(request)
        pending = self._pending
        if pending is None or not pending.recorded:
            return response
        replay = self.app.fast_path.peek(pending, self.client)
        if replay is None:  # the bytes are not in memory
            return response
        slow = Reply(response.status_code, _joined(response.headers.raw), await response.aread())
        fast = drop_added_date(parse_fast(*replay, request.method), slow)
        assert fast == slow, "the fast path would answer this request otherwise"
        self.replays += 1
        return httpx.Response(fast.status, headers=list(fast.headers.items()), content=fast.body)


def token_for(key: SigningKey, path: str, *, tenant: str | None = None, ttl: int = 3600, **kwargs: Any) -> str:
    """A token signed with the origin's ``key`` for ``path`` expiring ``ttl`` seconds from now
    (issued an hour before it expires when ``ttl`` is negative); an exact token is bound to the file
    id :data:`FILE_IDS` gives ``path`` unless ``file_id`` is passed."""
    if kwargs.get("scope", "exact") == "exact":
        kwargs.setdefault("file_id", FILE_IDS.get(path))
    now = int(time.time())
    expires = now + ttl
    tenant_id = tenant or path.split("/", 1)[0]
    return sign_token(key, tenant_id=tenant_id, path=path, expires_at=expires, now=min(now, expires - 3600), **kwargs)
