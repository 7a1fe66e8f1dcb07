"""The edge's client for the origin's ``GET /_edge/objects/{key}``.

One shared ``httpx.AsyncClient`` (HTTP/1.1, keep-alive pool) carries the edge secret on every request.
Bodies are streamed, never read whole. Transport failures surface as :class:`OriginError`; status
codes are left to the caller to interpret.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TypedDict
from urllib.parse import quote

import httpx

from edge.cache.errors import OriginError
from edge.cache.http11 import INTERIM, Http11Transport, Interim
from edge.cache.meta import ObjectMeta
from edge.conditional import parse_http_date
from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.keys import validate_key

__all__ = ["OriginClient", "OriginResponse", "UpstreamClient"]

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)", re.IGNORECASE)
_MAX_CONNECTIONS = 100  # per client: requests at once, and idle connections kept
_SMALL_BODY = 64 * 1024  # drain bodies up to this size so the connection goes back to the pool


def _parse_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _parse_http_date(value: str | None) -> float:
    return float(parse_http_date(value) or 0) if value else 0.0


class Policy(TypedDict):
    """The ``X-Mediaedge-*`` policy of an object, as :class:`ObjectMeta` fields."""

    file_id: str
    asset_id: str
    tenant_id: str
    access: str


class OriginResponse:
    """An origin answer: status, parsed headers, and a body not read yet."""

    def __init__(self, response: httpx.Response, elapsed: float, raw: bool = False) -> None:
        headers = response.headers
        self._response = response
        self._raw = raw
        self.headers = headers
        self.status = response.status_code
        self.elapsed = elapsed  # seconds until the response headers arrived
        self.etag = headers.get("etag")
        self.cache_control = headers.get("cache-control", "")
        self.content_length = _parse_int(headers.get("content-length"))
        match = _CONTENT_RANGE.fullmatch(headers.get("content-range", "").strip())
        self.content_range = (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None

    @property
    def size(self) -> int | None:
        """The whole object's size: the Content-Range total of a 206, the Content-Length of a 200."""
        if self.status == 206:
            return self.content_range[2] if self.content_range else None
        return self.content_length if self.status == 200 else None

    def meta(self, key: str, fetched_at: float) -> ObjectMeta:
        """The object's meta from a 200/206; :class:`OriginError` if ETag or size is missing.

        ``X-Mediaedge-Access`` defaults to ``signed``: a missing policy header never opens an object.
        """
        headers = self._response.headers
        size = self.size
        if not self.etag or size is None:
            raise OriginError("Origin response lacks ETag or size")
        return ObjectMeta(
            key=key,
            size=size,
            etag=self.etag,
            last_modified=_parse_http_date(headers.get("last-modified")),
            content_type=headers.get("content-type", "application/octet-stream"),
            cache_control=self.cache_control,
            fetched_at=fetched_at,
            **self.policy(),
        )

    def policy(self) -> Policy:
        """The object's policy fields (``X-Mediaedge-*``), from a 200/206 or a 304: a 304 carries the
        policy too, so a file replaced by one with the same bytes (same ETag) gets its new file id."""
        headers = self._response.headers
        return Policy(
            file_id=headers.get("x-mediaedge-file-id", ""),
            asset_id=headers.get("x-mediaedge-asset-id", ""),
            tenant_id=headers.get("x-mediaedge-tenant", ""),
            access="public" if headers.get("x-mediaedge-access") == "public" else "signed",
        )

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives; a cut connection or timeout raises :class:`OriginError`."""
        try:
            chunks = self._response.aiter_raw() if self._raw else self._response.aiter_bytes()
            async for chunk in chunks:
                yield chunk
        except httpx.HTTPError as exc:
            raise OriginError("Origin sent an incomplete body") from exc

    async def discard(self) -> None:
        """Read and drop a small body so the connection is reused; a larger one is cut on close.
        Transport errors are ignored: the body was not wanted."""
        if self.content_length is not None and self.content_length <= _SMALL_BODY:
            with contextlib.suppress(httpx.HTTPError):
                await self._response.aread()


class OriginClient:
    """Pulls objects from ``origin_url``; ``timeout`` bounds connecting (at most 5 s) and each read."""

    raw = False  # bodies decoded by httpx (the origin never encodes them: Accept-Encoding: identity)

    def __init__(
        self,
        origin_url: str,
        edge_secret: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = self._make_client(origin_url, {EDGE_SECRET_HEADER: edge_secret}, timeout, transport)

    @staticmethod
    def _make_client(
        base_url: str, headers: dict[str, str], timeout: float, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"accept-encoding": "identity", **headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS),
            trust_env=False,  # the edge→origin hop never goes through an environment proxy
            transport=transport,
        )

    @asynccontextmanager
    async def open(
        self,
        key: str,
        *,
        byte_range: tuple[int, int] | None = None,
        if_none_match: str | None = None,
        if_match: str | None = None,
        headers: Mapping[str, str] | None = None,
        interim: Interim | None = None,
    ) -> AsyncIterator[OriginResponse]:
        """``GET /_edge/objects/{key}`` with optional ``Range: bytes=a-b`` and conditions; the
        response stays open (body unread) inside the ``async with``. A weak ``if_match`` is not sent
        (If-Match compares strongly, so it could never match); callers check the ETag themselves.
        ``headers`` are added to the request (pull zones: conditionals, Vary'd fields); ``interim``
        is called with each interim (1xx) response before the final one, where the transport reports
        them (:mod:`edge.cache.http11`)."""
        headers = dict(headers or {})
        if byte_range is not None:
            headers["range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        if if_none_match:
            headers["if-none-match"] = if_none_match
        if if_match and not if_match.startswith("W/"):
            headers["if-match"] = if_match
        extensions = {INTERIM: interim} if interim is not None else None
        request = self._client.build_request("GET", self.target(key), headers=headers, extensions=extensions)
        started = time.monotonic()
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise OriginError() from exc
        try:
            yield OriginResponse(response, time.monotonic() - started, self.raw)
        finally:
            await response.aclose()

    def target(self, key: str) -> str:
        """The request target of ``key`` (raises :class:`~mediaedge.keys.InvalidKey` for a bad key)."""
        return "/_edge/objects/" + quote(validate_key(key), safe="/")

    async def aclose(self) -> None:
        await self._client.aclose()


class UpstreamClient(OriginClient):
    """A pull zone's upstream: cache keys are request targets relative to ``base_url`` (``path?query``,
    plus ``#secondary-key`` for a Vary'd response, which is never sent); ``headers`` go on every request.
    Bodies are passed on as received (``Content-Encoding`` kept). Requests go through an
    :class:`~edge.cache.http11.Http11Transport` (interim responses reported) unless ``transport``
    is given."""

    raw = True

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        transport = transport or Http11Transport(max_connections=_MAX_CONNECTIONS, max_keepalive=_MAX_CONNECTIONS)
        self._client = self._make_client(base_url, dict(headers), timeout, transport)
        self.client = self._client  # for passing other methods through (edge.zones)

    def target(self, key: str) -> str:
        """``/a/b?q#vary`` → ``/a/b?q`` (the zone checked the path before it became a key)."""
        return key.split("#", 1)[0]
