"""The cache-hit fast path: answers the lean server (:mod:`edge.http1`) gives without entering ASGI.

Players fetch the same small objects over and over (playlists, init segments, thumbnails, captions)
with the same URL and the same few headers. The first such request goes through the whole app
(:mod:`edge.delivery`); when it was a cache hit answered 200, 206 (one range) or 304, the app records
what it sent here, keyed by the request's method, raw path (the token included, byte for byte) and the
headers the answer depends on (:data:`VARY`). The next identical request is answered by the protocol
straight from its ``on_headers_complete``: prebuilt status line and headers, exactly one ``Date`` (the
recorded answer's own, else the current time, as the server adds to an answer without one), and the
body read from the memory tier again (so the entry holds no bytes of its own and the cache's budget,
LRU order and counters are exactly as on the slow path).

What an entry was decided with is re-checked on every use, so a hit here never skips a check the slow
path would make:

- the object: the cache's fresh meta for the key must still be the very version the answer was made
  from (a purge, an origin change or the end of its freshness sends the request down the slow path);
- the tenant policy: the cached policy must still be the same one (a tenant purge, or its TTL);
- the token: verified in full once (the slow path, which caches the verification on the exact token
  string); here its key must still be in the JWKS (a withdrawn key stops its tokens), ``exp``/``nbf``
  are checked against the clock, and an IP binding against this connection's address;
- the bytes: the range must still be in the memory tier.

Anything else (errors, misses, multipart ranges, pull zones, request filters, bodies, HTTP/1.0,
``Connection: close``) takes the slow path. Entries are bounded (:data:`MAX_ENTRIES`, least recently
used dropped first) and dropped as soon as a check fails; the slow path then records a new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from edge.cache import ObjectMeta
from edge.http1 import FAST_PATH, date_line, status_line
from edge.lru import LRU
from edge.protocols import ObjectCache
from edge.respond import Headers, Send
from mediaedge.tokens import Claims, KeySet, TokenError
from mediaedge.whitelist import TenantPolicy

__all__ = ["EXTENSION", "MAX_ENTRIES", "VARY", "FastPath", "Pending", "head_bytes"]

#: The scope extension under which the server passes a :class:`Pending` to the app.
EXTENSION = FAST_PATH
MAX_ENTRIES = 16_384
#: Request headers an answer depends on: they are part of an entry's key.
VARY = frozenset(
    {
        b"host",  # pull zones may route by host
        b"range",
        b"if-range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"referer",
        b"origin",
        b"x-app-id",
    }
)
#: Request headers that always take the slow path (a body, an upgrade, a 100-continue).
SLOW = frozenset({b"content-length", b"transfer-encoding", b"upgrade", b"expect"})
METHODS = frozenset({b"GET", b"HEAD"})

Key = tuple[bytes, ...]
#: A replayed body: bytes, or the memory tier's slices as views, in order.
Body = bytes | tuple[memoryview, ...]
#: The hook counting an answer: (method, raw path, client address, status, body bytes, tenant).
Observe = Callable[[str, bytes, str | None, int, int, str | None], None]


def head_bytes(status_line: bytes, headers: Sequence[tuple[bytes, bytes]]) -> bytes | None:
    """The status line and header lines of a response (no blank line), or None if a header holds a
    CR or LF (which the server refuses to send)."""
    lines = [status_line]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    head = b"".join(lines)
    expected = len(headers) + 1
    return head if head.count(b"\n") == expected and head.count(b"\r") == expected else None


class _Entry:
    __slots__ = ("claims", "dated", "first", "head", "key", "last", "meta", "policy", "status", "tenant")

    def __init__(
        self,
        head: bytes,
        dated: bool,
        status: int,
        meta: ObjectMeta,
        policy: TenantPolicy,
        claims: Claims | None,
        first: int,
        last: int,
    ) -> None:
        self.head = head  # complete (blank line included) if ``dated``, else without Date and blank line
        self.dated = dated  # the recorded answer had a Date of its own (a stored response's)
        self.status = status
        self.meta = meta
        self.key = meta.key
        self.tenant = meta.tenant_id
        self.policy = policy
        self.claims = claims
        self.first = first  # the body's byte range; last < first: no body (304, HEAD, empty object)
        self.last = last

    def complete_head(self) -> bytes:
        """The head to send: with exactly one Date (the recorded one, else the current time)."""
        return self.head if self.dated else b"".join((self.head, date_line(), b"\r\n"))


class _Recorder:
    """A ``send`` that remembers the response start and whether the body came in one message."""

    __slots__ = ("_send", "headers", "messages", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.headers: Headers = []
        self.messages = 0

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers", ()))
        else:
            self.messages += 1
        await self._send(message)


class Pending:
    """A request the fast path could not answer: the app may record its answer with :meth:`record`."""

    __slots__ = ("fast", "key", "method", "recorded")

    def __init__(self, fast: FastPath, key: Key) -> None:
        self.fast = fast
        self.key = key
        self.method = key[0]
        self.recorded = False  # record() kept an entry

    def recorder(self, send: Send) -> _Recorder:
        """Wrap ``send`` to see what is answered."""
        return _Recorder(send)

    def record(self, recorder: _Recorder, meta: ObjectMeta, policy: TenantPolicy, claims: Claims | None) -> None:
        """Keep the answer ``recorder`` saw (a cache hit of ``meta`` allowed by ``policy`` and
        ``claims``) for identical requests, if it is one the fast path can replay."""
        status, headers = recorder.status, recorder.headers
        first, last = 0, -1
        if self.method == b"GET" and status in (200, 206):
            span = _span(status, headers, meta.size)
            if span is None:
                return
            first, last = span
        elif status not in (200, 304):
            return
        prebuilt = head_bytes(status_line(status), [*headers, *self.fast.advertised])
        if prebuilt is not None:
            dated = any(name.lower() == b"date" for name, _ in headers)
            head = prebuilt + b"\r\n" if dated else prebuilt
            self.fast.table.put(self.key, _Entry(head, dated, status, meta, policy, claims, first, last))
            self.recorded = True


def _span(status: int, headers: Headers, size: int) -> tuple[int, int] | None:
    """The body range of a 200 (the whole object) or a single-part 206 (its Content-Range)."""
    if status == 200:
        return 0, size - 1
    for name, value in headers:
        if name == b"content-range":
            first, _, last = value.removeprefix(b"bytes ").partition(b"/")[0].partition(b"-")
            return int(first), int(last)
    return None  # multipart/byteranges: its boundary is new on every answer


class FastPath:
    """The table of replayable answers and the per-request checks (see the module docstring).

    ``cache`` gives the current fresh meta (:meth:`~edge.protocols.ObjectCache.lookup_fast`) and the
    bytes; ``keys()`` the current JWKS; ``policy(tenant)`` the fresh cached tenant policy; ``observe``
    counts each answer like the app does; ``advertised`` are the headers the app adds to every answer
    outside what the recorder sees (``Alt-Svc``).
    """

    def __init__(
        self,
        cache: ObjectCache,
        keys: Callable[[], KeySet],
        policy: Callable[[str], TenantPolicy | None],
        observe: Observe,
        advertised: Sequence[tuple[bytes, bytes]] = (),
        maxsize: int = MAX_ENTRIES,
    ) -> None:
        self.table: LRU[Key, _Entry] = LRU(maxsize)
        self.advertised = advertised
        self.hits = 0  # answers given
        self.clock = time.time  # for the tokens' exp/nbf (tests move it)
        self._lookup = cache.lookup_fast
        self._read = cache.read_held
        self._keys = keys
        self._policy = policy
        self._observe = observe

    def clear(self) -> None:
        """Forget every entry."""
        self.table = LRU(self.table.maxsize)

    def __len__(self) -> int:
        return len(self.table)

    def answer(
        self, method: bytes, raw_path: bytes, headers: Sequence[tuple[bytes, bytes]], client: tuple[str, int] | None
    ) -> tuple[bytes, Body] | Pending | None:
        """For a request without a body: ``(head, body)`` to send as is (``head`` complete, its Date and
        blank line included; ``body`` bytes, or views of the memory tier's slices in order: never a
        copy of more than one slice), or a :class:`Pending` to pass to the app, or None if only the
        slow path can ever answer it."""
        if method not in METHODS:
            return None
        parts = [method, raw_path]
        for name, value in headers:
            if name in VARY:
                parts += (name, value)
            elif name in SLOW:
                return None
        key = tuple(parts)
        replay = self._replay(key, client)
        if replay is None:
            return Pending(self, key)
        entry, body = replay
        self.hits += 1
        sent = entry.last - entry.first + 1 if entry.last >= entry.first else 0
        self._observe(method.decode(), raw_path, client[0] if client else None, entry.status, sent, entry.tenant)
        return entry.complete_head(), body

    def peek(self, pending: Pending, client: tuple[str, int] | None) -> tuple[bytes, bytes] | None:
        """What the fast path would answer now to the request of ``pending``, without counting it
        (tests compare it with the slow path's answer)."""
        replay = self._replay(pending.key, client)
        if replay is None:
            return None
        body = replay[1]
        return replay[0].complete_head(), body if isinstance(body, bytes) else b"".join(body)

    def _replay(self, key: Key, client: tuple[str, int] | None) -> tuple[_Entry, Body] | None:
        """The entry for ``key`` and its body if every check passes, else None (an entry whose
        object, policy or token changed is dropped)."""
        entry = self.table.get(key)
        if entry is None:
            return None
        claims = entry.claims
        if self._policy(entry.tenant) is not entry.policy:
            self.table.pop(key)
            return None
        if claims is not None:
            if claims.kid not in self._keys():
                self.table.pop(key)
                return None
            try:
                claims.check_time(self.clock())
            except TokenError:
                self.table.pop(key)
                return None
        if self._lookup(entry.key) is not entry.meta:  # last: it counts a lookup hit
            self.table.pop(key)
            return None
        if claims is not None and claims.ip is not None and not claims.allows_ip(client[0] if client else ""):
            return None  # the slow path refuses this client; the entry stays for the others
        if entry.last < entry.first:
            return entry, b""
        body = self._read(entry.meta, entry.first, entry.last)
        return None if body is None else (entry, body)  # None: evicted from memory, for the slow path
