"""``GET``/``HEAD``/``OPTIONS /{fileId|jwt}/{key}``: who may read, which bytes, with which headers.

Order of checks for ``GET``/``HEAD`` (the path was already validated by :mod:`edge.paths`):

1. a token in the first segment is verified (401 ``TOKEN_*``) and must cover the key and the client's
   address (403 ``TOKEN_PATH_MISMATCH``/``TOKEN_IP_MISMATCH``) — before any cache or origin work;
2. cache lookup (404, 502);
3. public object: without a token the file id must be the object's (else 404, like a missing file);
   signed object: a token is required (401 ``SIGNED_URL_REQUIRED`` for browsers, ``JWT_REQUIRED``
   otherwise — see :func:`is_browser`) and its ``tid`` must be the object's tenant (403);
   any token must have been minted for this content: an exact token's ``fid`` must be the object's
   file id, a prefix token's ``aid`` (if any) its stream's id — else 404, like a public URL with
   another file's id (the file the token was issued for is gone). Checked against the cached policy
   on every request, so a cache hit or a cached verification never skips it;
4. the tenant's whitelist (403 ``ORIGIN_NOT_WHITELISTED``/``APP_NOT_WHITELISTED``);
5. preconditions (304/412), then ranges (206/416) or the whole object (200).

On a cache hit with a known token and tenant this does no I/O but the socket write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import BinaryIO, NamedTuple

from edge import cors
from edge.auth import TokenVerifier
from edge.cache import ObjectChanged, ObjectMeta
from edge.conditional import if_range_matches, precondition
from edge.fastpath import EXTENSION, Pending
from edge.http1 import ZEROCOPY
from edge.policy import TenantPolicies
from edge.protocols import ObjectCache, Slices
from edge.ranges import ByteRange, content_range, multipart, parse_range, unsatisfied_range
from edge.representation import Representation, Representations
from edge.respond import Headers, Receive, Scope, Send, send_parts, send_response
from mediaedge.errors import HTTPError
from mediaedge.tokens import Claims, TokenError, looks_like_token
from mediaedge.whitelist import TenantPolicy

log = logging.getLogger(__name__)

#: RFC 9211 ``Cache-Status`` by the cache layer's lookup result.
CACHE_STATUS = {
    "hit": b"mediaedge; hit",
    "miss": b"mediaedge; fwd=miss",
    "sibling": b"mediaedge; hit; detail=sibling",  # another worker of this edge had just fetched it
    "revalidated": b"mediaedge; fwd=stale; fwd-status=304",
    "stale": b"mediaedge; fwd=stale; detail=stale-if-error",
}

_WANTED = frozenset(
    {
        b"range",
        b"if-range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"referer",
        b"origin",
        b"x-app-id",
        b"user-agent",
        b"sec-fetch-mode",
        b"sec-fetch-site",
        b"sec-fetch-dest",
        b"access-control-request-method",
    }
)
#: Bodies from this size are sent from disk-tier files without a copy (when the server can).
ZEROCOPY_MIN_BYTES = 128 * 1024
_BROWSER_HINTS = (b"referer", b"origin", b"sec-fetch-mode", b"sec-fetch-site", b"sec-fetch-dest")


class Outcome(NamedTuple):
    """What a handled request produced, for metrics and the access log."""

    status: int
    sent: int
    tenant: str | None = None


class ResponseAborted(Exception):
    """The body failed after the headers were sent; the connection must be dropped."""


def request_headers(scope: Scope) -> dict[bytes, str]:
    """The request headers this module reads; repeated fields joined with ``", "``."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def is_browser(headers: dict[bytes, str]) -> bool:
    """The rule that picks ``SIGNED_URL_REQUIRED`` (browser) over ``JWT_REQUIRED`` (anything else).

    A request with ``X-App-ID`` is an app. Otherwise it is a browser if it carries ``Referer``,
    ``Origin`` or any ``Sec-Fetch-*`` header, or a ``User-Agent`` starting with ``Mozilla/`` (every
    mainstream browser; players such as ffmpeg, AVPlayer, ExoPlayer and curl do not).
    """
    if b"x-app-id" in headers:
        return False
    return any(h in headers for h in _BROWSER_HINTS) or headers.get(b"user-agent", "").startswith("Mozilla/")


def not_found() -> HTTPError:
    return HTTPError(404, "File not found", "FILE_NOT_FOUND")


def _token_error(exc: TokenError) -> HTTPError:
    return HTTPError(401, exc.message, exc.code)


async def _watch_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class Responder:
    """Answers a GET/HEAD whose access is settled from a :class:`Representation` (preconditions, ranges,
    bytes through ``cache``); :class:`Delivery` and the pull zones (:mod:`edge.zones`) use it."""

    def __init__(self, cache: Slices) -> None:
        self.cache = cache

    # -- answer ------------------------------------------------------------------------------------

    async def respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, str],
        rep: Representation,
        extra: Headers,
        tenant: str | None,
    ) -> Outcome:
        """Answer a GET/HEAD that passed every access check with ``rep``: preconditions (304/412),
        then ranges (206/416) or the whole representation; ``extra`` goes on every answer but 412/416.
        Pull zones (:mod:`edge.zones`) use it too."""
        head = scope["method"] == "HEAD"
        zerocopy = ZEROCOPY in (scope.get("extensions") or {})
        outcome = precondition(headers, rep.etag, rep.last_modified)
        if outcome == 412:
            raise HTTPError(412, "Precondition failed", "PRECONDITION_FAILED")
        if outcome == 304:
            await send_response(send, 304, [*rep.not_modified, *extra])
            return Outcome(304, 0, tenant)
        if head:  # RFC 9110 §14.2: Range is defined for GET only
            await send_response(send, 200, [*rep.full, *extra], head=True)
            return Outcome(200, 0, tenant)
        ranges = self._ranges(headers, rep)
        if ranges is None:
            sent = await self.send_whole(send, receive, rep, 200, [*rep.full, *extra], zerocopy)
            return Outcome(200, sent, tenant)
        if not ranges:
            raise HTTPError(
                416,
                "Range not satisfiable",
                "RANGE_NOT_SATISFIABLE",
                {"Content-Range": unsatisfied_range(rep.size).decode()},
            )
        if len(ranges) == 1:
            ((first, last),) = ranges
            response_headers = [
                *rep.partial,
                (b"content-type", rep.content_type),
                (b"content-length", b"%d" % (last - first + 1)),
                (b"content-range", content_range(first, last, rep.size)),
                *extra,
            ]
            sent = await self._send(send, receive, rep, 206, response_headers, [(b"", first, last)], b"", zerocopy)
            return Outcome(206, sent, tenant)
        framing = multipart(ranges, rep.size, rep.content_type)
        response_headers = [
            *rep.partial,
            (b"content-type", framing.content_type),
            (b"content-length", b"%d" % framing.content_length),
            *extra,
        ]
        spans = [(head_bytes, first, last) for head_bytes, (first, last) in zip(framing.heads, ranges, strict=True)]
        sent = await self._send(send, receive, rep, 206, response_headers, spans, framing.tail)
        return Outcome(206, sent, tenant)

    @staticmethod
    def _ranges(headers: dict[bytes, str], rep: Representation) -> list[ByteRange] | None:
        value = headers.get(b"range")
        if value is None:
            return None
        if_range = headers.get(b"if-range")
        if if_range is not None and not if_range_matches(if_range, rep.etag, rep.last_modified):
            return None
        return parse_range(value, rep.size)

    # -- body --------------------------------------------------------------------------------------

    async def send_whole(
        self, send: Send, receive: Receive, rep: Representation, status: int, headers: Headers, zerocopy: bool = False
    ) -> int:
        """Send ``status``, ``headers`` and every byte of ``rep``."""
        return await self._send(send, receive, rep, status, headers, [(b"", 0, rep.size - 1)], b"", zerocopy)

    async def _send(
        self,
        send: Send,
        receive: Receive,
        rep: Representation,
        status: int,
        headers: Headers,
        spans: list[tuple[bytes, int, int]],
        tail: bytes = b"",
        zerocopy: bool = False,
    ) -> int:
        """Send ``status``/``headers`` and, per span, its prefix then its bytes; then ``tail``.

        From memory when the cache can (the hot path: one write within a slice, else one per slice, the
        tier's own bytes either way, never a joined copy); else, with ``zerocopy`` (the
        server offers ASGI's ``http.response.zerocopy``), from the disk tier's files without a copy
        when every byte is there; else streamed, with the first chunk read before the headers go out
        so a failing origin still gets a proper error answer.
        """
        meta = rep.meta
        parts: list[bytes | memoryview] | None
        if rep.size == 0:
            return await send_response(send, status, headers, b"".join(p for p, _, _ in spans) + tail)
        if len(spans) == 1 and not spans[0][0] and not tail:  # 200 or single-part 206: the hot path
            held = self.cache.read_held(meta, spans[0][1], spans[0][2])
            if isinstance(held, bytes):
                return await send_response(send, status, headers, held)
            parts = None if held is None else list(held)
        else:
            parts = self._read_held_framed(meta, spans, tail)
        if parts is not None:  # several slices from memory: each as the tier holds it, no joined copy
            return await send_parts(send, status, headers, parts)
        if zerocopy and len(spans) == 1 and not spans[0][0] and not tail and self._large(spans[0]):
            files = self.cache.open_fast(meta, spans[0][1], spans[0][2])
            if files is not None:  # from the disk tier, file to socket (os.sendfile)
                return await self._send_files(send, status, headers, files)
        return await self._stream(send, receive, meta, status, headers, spans, tail)

    @staticmethod
    def _large(span: tuple[bytes, int, int]) -> bool:
        """Whether a body is worth a zero-copy send; smaller ones are read, and promoted to memory
        (where the fast path finds them again)."""
        return span[2] - span[1] + 1 >= ZEROCOPY_MIN_BYTES

    @staticmethod
    async def _send_files(send: Send, status: int, headers: Headers, files: list[tuple[BinaryIO, int, int]]) -> int:
        """The response from open files (``(file, offset, count)`` each) with ASGI's zero-copy send."""
        sent = 0
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            for index, (file, offset, count) in enumerate(files):
                more = index < len(files) - 1
                await send({"type": ZEROCOPY, "file": file, "offset": offset, "count": count, "more_body": more})
                sent += count
            return sent
        except Exception as exc:
            log.warning("aborting a zero-copy response after %d bytes: %s", sent, exc)
            raise ResponseAborted from exc
        finally:
            for file, _, _ in files:
                file.close()

    def _read_held_framed(
        self, meta: ObjectMeta, spans: list[tuple[bytes, int, int]], tail: bytes
    ) -> list[bytes | memoryview] | None:
        """The whole multipart body from memory as parts (framing and held bytes), or None if any range
        is not in memory."""
        parts: list[bytes | memoryview] = []
        for prefix, first, last in spans:
            held = self.cache.read_held(meta, first, last)
            if held is None:
                return None
            if prefix:
                parts.append(prefix)
            if isinstance(held, bytes):
                parts.append(held)
            else:
                parts += held
        if tail:
            parts.append(tail)
        return parts

    async def _stream(
        self,
        send: Send,
        receive: Receive,
        meta: ObjectMeta,
        status: int,
        headers: Headers,
        spans: list[tuple[bytes, int, int]],
        tail: bytes,
    ) -> int:
        readers = [aiter(self.cache.read(meta, first, last)) for _, first, last in spans]
        first_chunk = await anext(readers[0], b"")
        await send({"type": "http.response.start", "status": status, "headers": headers})
        watcher = asyncio.ensure_future(_watch_disconnect(receive))
        sent = 0
        try:
            async with contextlib.aclosing(_pieces([p for p, _, _ in spans], readers, first_chunk, tail)) as pieces:
                async for piece in pieces:
                    if watcher.done():  # the client went away; stop reading
                        return sent
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                    sent += len(piece)
            await send({"type": "http.response.body", "body": b""})
            return sent
        except Exception as exc:
            log.warning("aborting response for %s after %d bytes: %s", meta.key, sent, exc)
            raise ResponseAborted from exc
        finally:
            watcher.cancel()
            for reader in readers:
                with contextlib.suppress(Exception):
                    await reader.aclose()  # type: ignore[attr-defined]


class Delivery(Responder):
    """Serves objects from the edge cache."""

    def __init__(self, cache: ObjectCache, verifier: TokenVerifier, policies: TenantPolicies) -> None:
        super().__init__(cache)
        self.objects = cache
        self.verifier = verifier
        self.policies = policies
        self.representations = Representations()

    # -- access ------------------------------------------------------------------------------------

    async def _claims(self, token: str, key: str, client_ip: str, now: float) -> Claims:
        try:
            claims = await self.verifier.verify(token, now)
        except TokenError as exc:
            raise _token_error(exc) from None
        if not claims.allows_path(key):
            raise HTTPError(403, "The token does not grant access to this file", "TOKEN_PATH_MISMATCH")
        if not claims.allows_ip(client_ip):
            raise HTTPError(403, "The token is bound to another client address", "TOKEN_IP_MISMATCH")
        return claims

    async def _policy(self, tenant_id: str) -> TenantPolicy:
        policy = self.policies.cached(tenant_id) or await self.policies.get(tenant_id)
        if policy is None:
            raise not_found()
        return policy

    async def _lookup(self, key: str) -> tuple[ObjectMeta, str]:
        try:
            meta, status = await self.objects.lookup(key)
        except HTTPError as exc:
            if exc.status == 404:
                raise not_found() from None
            raise
        return meta, status

    @staticmethod
    def _check_access(meta: ObjectMeta, credential: str, claims: Claims | None, headers: dict[bytes, str]) -> None:
        if claims is None:
            if meta.access == "public":
                if credential != meta.file_id:
                    raise not_found()
                return
            if is_browser(headers):
                raise HTTPError(401, "This file requires a signed URL", "SIGNED_URL_REQUIRED")
            raise HTTPError(401, "This file requires a JWT in the URL path", "JWT_REQUIRED")
        if claims.tid != meta.tenant_id:
            raise HTTPError(403, "The token does not grant access to this file", "TOKEN_PATH_MISMATCH")
        if not claims.allows_content(meta.file_id, meta.asset_id):
            raise not_found()

    # -- GET / HEAD --------------------------------------------------------------------------------

    async def get(self, scope: Scope, receive: Receive, send: Send, credential: str, key: str) -> Outcome:
        """Answer ``GET``/``HEAD`` of an object; once more if it changed at the origin before its
        first byte was sent (a second change answers 502)."""
        try:
            return await self._get(scope, receive, send, credential, key)
        except ObjectChanged:
            return await self._get(scope, receive, send, credential, key)

    async def _get(self, scope: Scope, receive: Receive, send: Send, credential: str, key: str) -> Outcome:
        headers = request_headers(scope)
        claims = None
        if looks_like_token(credential):
            client = scope.get("client")
            claims = await self._claims(credential, key, client[0] if client else "", time.time())
        meta, status = await self._lookup(key)
        self._check_access(meta, credential, claims, headers)
        policy = await self._policy(meta.tenant_id)
        origin = headers.get(b"origin")
        refusal = policy.refusal(headers.get(b"referer"), origin, headers.get(b"x-app-id"))
        if refusal is not None:
            raise HTTPError(403, "This origin or app may not load the tenant's files", refusal)

        rep = self.representations.get(meta)
        extra = [(b"cache-status", CACHE_STATUS.get(status, b"mediaedge")), *cors.allow_origin(policy, origin)]
        pending: Pending | None = (scope.get("extensions") or {}).get(EXTENSION) if status == "hit" else None
        if pending is None:
            return await self.respond(scope, receive, send, headers, rep, extra, meta.tenant_id)
        recorder = pending.recorder(send)  # the server's fast path may replay this answer (edge.fastpath)
        outcome = await self.respond(scope, receive, recorder, headers, rep, extra, meta.tenant_id)
        pending.record(recorder, meta, policy, claims)
        return outcome

    # -- OPTIONS -----------------------------------------------------------------------------------

    async def options(self, scope: Scope, send: Send, key: str) -> Outcome:
        """A CORS preflight (decided by the whitelist of the tenant in the key), or a plain ``Allow``."""
        headers = request_headers(scope)
        origin = headers.get(b"origin")
        if origin is None or b"access-control-request-method" not in headers:
            await send_response(send, 204, [(b"allow", b"GET, HEAD, OPTIONS")])
            return Outcome(204, 0)
        tenant_id = key.split("/", 1)[0]
        policy = await self._policy(tenant_id)
        if policy.refusal(None, origin, None) is not None:
            raise HTTPError(403, "This origin may not load the tenant's files", "ORIGIN_NOT_WHITELISTED")
        await send_response(send, 204, cors.preflight(policy, origin))
        return Outcome(204, 0, tenant_id)


async def _pieces(
    prefixes: list[bytes], readers: list[AsyncIterator[bytes]], first_chunk: bytes, tail: bytes
) -> AsyncGenerator[bytes, None]:
    """The body in order: each range's prefix and bytes (the first chunk already read), then ``tail``."""
    for index, (prefix, reader) in enumerate(zip(prefixes, readers, strict=True)):
        if prefix:
            yield prefix
        if index == 0 and first_chunk:
            yield first_chunk
        async for chunk in reader:
            if chunk:
                yield chunk
    if tail:
        yield tail
