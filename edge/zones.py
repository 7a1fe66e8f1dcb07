"""Pull zones: the edge as an RFC 9111 shared cache in front of any HTTP server (docs/caching.md).

A zone (``[edge.zones.NAME]``, :class:`~edge.zone_settings.ZoneSettings`) is routed by ``Host`` and/or a
first path segment (stripped before forwarding). ``GET``/``HEAD`` go through the zone's own
:class:`~edge.cache.PullCache` (its share of the cache; coalescing, slices, purge as for the default
zone) with the freshness rules of :mod:`edge.freshness`; every other method is streamed to the
upstream and its answer streamed back, never cached, hop-by-hop fields removed both ways. Routing
costs the default zone nothing when no zone is configured, and a dict lookup otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import orjson

from edge import freshness
from edge.auth import KeySource, StaticKeys, TokenVerifier
from edge.cache import ObjectChanged, ObjectMeta, PullCache
from edge.cache.http11 import INTERIM, early_hints
from edge.cache.meta import StoredResponse
from edge.cache.origin import UpstreamClient
from edge.conditional import http_date
from edge.delivery import Outcome, Responder, ResponseAborted, is_browser, request_headers
from edge.freshness import ClientRequest
from edge.lru import LRU
from edge.paths import check_raw_path, invalid_path
from edge.protocols import ZoneCache
from edge.representation import Representation, Representations
from edge.respond import Headers, Receive, Scope, Send, hint_sender, send_response
from edge.zone_settings import ZoneSettings, zone_settings
from mediaedge.errors import HTTPError
from mediaedge.settings import Settings
from mediaedge.tokens import KeySet, TokenError, looks_like_token
from mediaedge.whitelist import TenantPolicy, Whitelist

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
VARY_ENTRIES = 65_536
#: Request fields never forwarded on a cache fill: the edge answers ranges and conditionals itself.
_NOT_FORWARDED = freshness.HOP_BY_HOP | {
    "host",
    "range",
    "if-range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
}
#: Fields of a stored response a 304 carries (RFC 9110 §15.4.5).
_NOT_MODIFIED_FIELDS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}
)
_BAD_QUERY = re.compile(rb"[^\x21-\x7e]")


def zone_path(raw_path: bytes) -> str:
    """The client's path inside a zone, checked like object paths (:mod:`edge.paths`): printable ASCII,
    no encoded ``.``/``/``/``\\``/``%``, no ``.``/``..``/empty segment (a trailing ``/`` is allowed), so
    it can never leave the zone's base path upstream."""
    check_raw_path(raw_path)
    segments = raw_path[1:].split(b"/")
    if any(s in (b".", b"..") for s in segments) or b"" in segments[:-1]:
        raise invalid_path()
    return raw_path.decode("ascii")


def _fields(scope: Scope) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]]


def _encode(fields: list[tuple[str, str]]) -> Headers:
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in fields]


@dataclasses.dataclass(eq=False)
class Zone:
    """One configured zone with its cache, upstream client and access policy."""

    settings: ZoneSettings
    cache: ZoneCache
    upstream: UpstreamClient
    verifier: TokenVerifier | None
    policy: TenantPolicy
    delivery: Responder
    vary: LRU[str, tuple[str, ...]] = dataclasses.field(default_factory=lambda: LRU(VARY_ENTRIES))
    #: Header lists of stored entries, built once per version (a ``pass`` answer is built each time).
    representations: Representations = dataclasses.field(
        default_factory=lambda: Representations(builder=_representation)
    )
    label: str = ""


class Zones:
    """Every pull zone of the edge; falsy when there is none."""

    def __init__(
        self,
        settings: Settings,
        origin_keys: KeySource,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._routes: dict[tuple[str, str], Zone] = {}
        self._clock = clock
        self.by_name: dict[str, Zone] = {}
        for zs in zone_settings(settings.edge.zones):
            edge = settings.edge
            cache_settings = dataclasses.replace(
                edge,
                memory_cache_bytes=zs.memory_cache_bytes,
                disk_cache_bytes=zs.disk_cache_bytes,
                disk_cache_dir=str(Path(edge.disk_cache_dir or settings.data_dir) / "zones" / zs.name),
            )
            upstream = UpstreamClient(zs.upstream, zs.headers, timeout=zs.timeout)
            cache = PullCache(cache_settings, upstream, clock=clock)
            keys: KeySource = origin_keys
            if zs.token_keys != "origin":  # noqa: S105  (a file path, not a secret)
                keys = StaticKeys(KeySet.from_jwks(orjson.loads(Path(zs.token_keys).read_bytes())))
            verifier = TokenVerifier(keys)
            policy = TenantPolicy(zs.name, Whitelist.of(zs.whitelisted_domains), frozenset(zs.app_ids))
            zone = Zone(
                zs, cache, upstream, verifier if zs.tokens else None, policy, Responder(cache), label=f"zone:{zs.name}"
            )
            self._routes[zs.host, zs.prefix] = zone
            self.by_name[zs.name] = zone
        self._hosts = any(host for host, _ in self._routes)

    def __bool__(self) -> bool:
        return bool(self._routes)

    async def start(self) -> None:
        for zone in self.by_name.values():
            await zone.cache.start()

    async def close(self) -> None:
        for zone in self.by_name.values():
            await zone.cache.close()  # closes the upstream client too

    def match(self, scope: Scope, raw_path: bytes) -> tuple[Zone, bytes] | None:
        """The zone for this request and the path inside it, or None (the default zone): host and
        prefix, else host alone, else prefix alone."""
        first, slash, rest = raw_path[1:].partition(b"/")
        prefix = "/" + first.decode("latin-1")
        if self._hosts:
            value = next((v for n, v in scope["headers"] if n == b"host"), b"").decode("latin-1")
            host = value.rsplit(":", 1)[0].lower() if not value.startswith("[") else value.lower()
            zone = self._routes.get((host, prefix))
            if zone is not None:
                return zone, slash + rest or b"/"
            zone = self._routes.get((host, ""))
            if zone is not None:
                return zone, raw_path
        zone = self._routes.get(("", prefix))
        return (zone, slash + rest or b"/") if zone is not None else None

    # -- requests -----------------------------------------------------------------------------------

    async def handle(self, zone: Zone, raw_path: bytes, scope: Scope, receive: Receive, send: Send) -> Outcome:
        """Answer one request routed to ``zone``; ``raw_path`` is the path inside it."""
        path = zone_path(raw_path)
        query = scope.get("query_string", b"")
        if _BAD_QUERY.search(query):
            raise invalid_path("Invalid query string")
        wanted = request_headers(scope)
        if zone.verifier is not None:
            path = await self._check_token(zone, scope, wanted, path)
        refusal = zone.policy.refusal(wanted.get(b"referer"), wanted.get(b"origin"), wanted.get(b"x-app-id"))
        if refusal is not None:
            raise HTTPError(403, "This origin or app may not load this zone's files", refusal)
        target = path + ("?" + query.decode("ascii") if query else "")
        if scope["method"] in ("GET", "HEAD"):
            try:
                return await self._get(zone, scope, receive, send, target, wanted)
            except ObjectChanged:
                return await self._get(zone, scope, receive, send, target, wanted)
        return await self._forward(zone, scope, receive, send, target)

    async def _check_token(self, zone: Zone, scope: Scope, wanted: dict[bytes, str], path: str) -> str:
        """Verify the token in the first segment (``/{jwt}/{path}``); return the path after it."""
        credential, _, rest = path[1:].partition("/")
        if not looks_like_token(credential):
            if is_browser(wanted):
                raise HTTPError(401, "This file requires a signed URL", "SIGNED_URL_REQUIRED")
            raise HTTPError(401, "This file requires a JWT in the URL path", "JWT_REQUIRED")
        assert zone.verifier is not None
        try:
            claims = await zone.verifier.verify(credential, self._clock())
        except TokenError as exc:
            raise HTTPError(401, exc.message, exc.code) from None
        tenant = zone.settings.token_tenant
        if claims.tid != tenant or not claims.allows_path(f"{tenant}/{unquote(rest)}"):
            raise HTTPError(403, "The token does not grant access to this file", "TOKEN_PATH_MISMATCH")
        client = scope.get("client")
        if not claims.allows_ip(client[0] if client else ""):
            raise HTTPError(403, "The token is bound to another client address", "TOKEN_IP_MISMATCH")
        return "/" + rest

    async def _get(
        self, zone: Zone, scope: Scope, receive: Receive, send: Send, target: str, wanted: dict[bytes, str]
    ) -> Outcome:
        fields = _fields(scope)
        forward = tuple((n.lower(), v) for n, v in fields if n.lower() not in _NOT_FORWARDED and v.isascii())
        request = ClientRequest.of(freshness.field_map(fields), forward)
        names = zone.vary.get(target) or ()
        hints = hint_sender(scope, send)
        for _ in range(2):  # once more if the response varies on other fields than last seen
            key = freshness.variant_key(target, tuple((n, request.value(n)) for n in names))
            meta, status = await zone.cache.lookup(key, request, hints=hints)
            http = meta.http
            assert http is not None
            learned = tuple(n for n, _ in http.vary)
            if learned != names:
                zone.vary.put(target, learned)
            if freshness.vary_matches(http, request):
                break
            names = learned
        else:
            meta, status = await zone.cache.lookup(key, request, share=False, hints=hints)
        try:
            return await self._answer(zone, scope, receive, send, meta, status, request, wanted)
        finally:
            zone.cache.release(meta)

    async def _answer(
        self,
        zone: Zone,
        scope: Scope,
        receive: Receive,
        send: Send,
        meta: ObjectMeta,
        status: str,
        request: ClientRequest,
        wanted: dict[bytes, str],
    ) -> Outcome:
        http = meta.http
        assert http is not None
        age = freshness.current_age(http, meta.fetched_at, self._clock())
        extra = [(b"age", b"%d" % int(age)), (b"cache-status", _cache_status(status, http, age, request))]
        rep = zone.representations.get(meta) if http.stored else _representation(meta)
        if http.status != 200:
            headers = [*rep.full, *extra]
            if scope["method"] == "HEAD" or not meta.size:
                await send_response(send, http.status, headers, head=True)
                return Outcome(http.status, 0, zone.label)
            sent = await zone.delivery.send_whole(send, receive, rep, http.status, headers)
            return Outcome(http.status, sent, zone.label)
        if not meta.last_modified:  # RFC 9110 §13.1.3/4: date conditions need a Last-Modified
            wanted = {k: v for k, v in wanted.items() if k not in (b"if-modified-since", b"if-unmodified-since")}
        return await zone.delivery.respond(scope, receive, send, wanted, rep, extra, zone.label)

    # -- other methods ------------------------------------------------------------------------------

    async def _forward(self, zone: Zone, scope: Scope, receive: Receive, send: Send, target: str) -> Outcome:
        """Pass any other method through: request body streamed up, answer streamed back, never
        cached; a non-error answer to an unsafe method invalidates the URL (RFC 9111 §4.4)."""
        fields = _fields(scope)
        drop = freshness.connection_fields(freshness.field_map(fields)) | {"host"}
        headers = [(n, v) for n, v in scope["headers"] if n.decode("latin-1") not in drop]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        has_body = any(n in ("content-length", "transfer-encoding") for n, _ in fields)
        method = scope["method"]
        hints = hint_sender(scope, send)
        request = zone.upstream.client.build_request(
            method,
            target,
            headers=headers,
            content=_body(receive) if has_body else None,
            extensions={INTERIM: early_hints(hints)} if hints is not None else None,
        )
        try:
            response = await zone.upstream.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.warning("zone %s: %s %s failed: %r", zone.settings.name, method, target.split("?")[0], exc)
            raise HTTPError(502, "Upstream unavailable") from None
        try:
            if method not in SAFE_METHODS and response.status_code < 400:
                await self._invalidate(zone, target, response.headers)
            out = freshness.connection_fields(response.headers)
            answer = [(n.lower(), v) for n, v in response.headers.raw if n.decode("latin-1").lower() not in out]
            if "date" not in response.headers:  # RFC 9110 §6.6.1: a recipient adds the time received
                answer.append((b"date", http_date(self._clock()).encode()))
            answer.append((b"cache-status", b"mediaedge; fwd=method"))
            await send({"type": "http.response.start", "status": response.status_code, "headers": answer})
            sent = 0
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    sent += len(chunk)
            except httpx.HTTPError as exc:
                raise ResponseAborted from exc
            await send({"type": "http.response.body", "body": b""})
            return Outcome(response.status_code, sent, zone.label)
        finally:
            await response.aclose()

    async def _invalidate(self, zone: Zone, target: str, headers: httpx.Headers) -> None:
        """Drop ``target`` and the same-zone URLs in Location / Content-Location."""
        await zone.cache.invalidate(target)
        base = urlsplit(zone.settings.upstream)
        base_path = base.path.rstrip("/")
        for name in ("location", "content-location"):
            value = headers.get(name)
            if not value:
                continue
            url = urlsplit(urljoin(f"{base.scheme}://{base.netloc}{base_path}{target}", value))
            if url.netloc == base.netloc and url.path.startswith(base_path + "/"):
                other = url.path[len(base_path) :] + (f"?{url.query}" if url.query else "")
                await zone.cache.invalidate(other)

    # -- purge --------------------------------------------------------------------------------------

    async def purge(self, name: str, keys: list[str], prefixes: list[str]) -> int:
        """Purge targets (``/path?query``, with their variants) and target prefixes in zone ``name``."""
        zone = self.by_name.get(name)
        if zone is None:
            raise HTTPError(400, f"No zone named {name!r}", "PURGE_INVALID")
        purged = 0
        for key in keys:
            purged += await zone.cache.invalidate(key)
        for prefix in prefixes:
            purged += await zone.cache.purge(prefix, prefix=True)
        return purged


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """The client's request body as it arrives (streamed, never buffered whole)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "Client disconnected")
        if message.get("body"):
            yield message["body"]
        if not message.get("more_body"):
            return


def _representation(meta: ObjectMeta) -> Representation:
    """Header lists of a zone entry: its stored fields, with the edge's framing."""
    http = meta.http
    assert http is not None
    stored = [(n, v) for n, v in http.headers if n not in ("accept-ranges", "content-type")]
    content_type = (http.header("content-type") or "application/octet-stream").encode("latin-1")
    ranges = [(b"accept-ranges", b"bytes")] if http.status == 200 else []
    partial = [*_encode(stored), *ranges]
    full = [*partial] if http.status == 204 else [*partial, (b"content-length", b"%d" % meta.size)]
    if http.header("content-type") is not None:
        full.append((b"content-type", content_type))
    return Representation(
        meta=meta,
        size=meta.size,
        etag="" if meta.etag.startswith("~") else meta.etag,
        last_modified=int(meta.last_modified),
        content_type=content_type,
        partial=partial,
        full=full,
        not_modified=_encode([(n, v) for n, v in stored if n in _NOT_MODIFIED_FIELDS]),
    )


def _cache_status(status: str, http: StoredResponse, age: float, request: ClientRequest) -> bytes:
    """The RFC 9211 ``Cache-Status`` of a zone answer (docs/caching.md lists the values)."""
    ttl = http.lifetime - age
    forced = "request" if request.no_cache or request.max_age is not None or request.min_fresh else "stale"
    if status == "hit":
        return freshness.cache_status(hit=True, ttl=ttl)
    if status == "swr":
        return freshness.cache_status(hit=True, ttl=ttl, detail="stale-while-revalidate")
    if status == "stale":
        return freshness.cache_status(fwd="stale", ttl=ttl, detail="stale-if-error")
    if status == "revalidated":
        return freshness.cache_status(fwd=forced, fwd_status=304, stored=http.stored, ttl=ttl)
    if status == "updated":
        return freshness.cache_status(fwd=forced, fwd_status=http.status, stored=True, ttl=ttl)
    if status == "pass":
        fwd = "request" if request.no_store else "uri-miss"
        return freshness.cache_status(fwd=fwd, fwd_status=http.status, detail=http.reason)
    return freshness.cache_status(fwd="uri-miss", fwd_status=http.status, stored=True, ttl=ttl)
