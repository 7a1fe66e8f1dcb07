"""The origin side of the edge contract (DESIGN §4): objects with their policy, tenant policy.

Authenticated by the shared edge secret. Edges ask for whole objects or one range
(``bytes=a-b`` / ``bytes=a-``, which is all the edge's slice fetcher sends).

Edges also push what they delivered (``POST /_edge/usage``, :func:`edge_usage`): cumulative
per-(process, day, tenant) counters, kept by :meth:`origin.store.edges.EdgeRepository.record_usage`.

Every object answer (200, 206 and 304 alike) carries the object's policy: ``X-Mediaedge-File-Id`` (the
file; for a stream output, the stream's source file), ``X-Mediaedge-Asset-Id`` (stream outputs only:
the stream's id), ``X-Mediaedge-Tenant`` and ``X-Mediaedge-Access: public|signed``. Edges check
tokens against the ids (``fid`` against the file id, ``aid`` against the asset id), so a 304 carries
them too: a file replaced by one with the same bytes keeps its ETag but not its id.
"""

from __future__ import annotations

import re
from email.utils import formatdate
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mediaedge.cluster import EDGE_SECRET_HEADER, REGISTER_PATH, USAGE_PATH, secret_matches
from mediaedge.errors import HTTPError
from mediaedge.keys import InvalidKey, validate_key
from origin.http import JSON, json_body, model_body, str_field
from origin.media.delivery import asset_object
from origin.openapi import describe
from origin.served import Served
from origin.state import OriginState, get_state
from origin.store import FileRecord
from origin.store.edges import UsageCounter
from origin.streams.outputs import stream_object

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _require_edge(request: Request) -> OriginState:
    state = get_state(request)
    if not secret_matches(request.headers.get(EDGE_SECRET_HEADER), state.edge_secret):
        raise HTTPError(401, "Edge secret required", "EDGE_SECRET_INVALID")
    return state


def policy_headers(record: FileRecord) -> dict[str, str]:
    return {
        "ETag": f'"{record.etag}"',
        "Last-Modified": formatdate(record.updated_at, usegmt=True),
        "Content-Type": record.mime,
        # No max-age: the edge keeps a copy fresh for its edge.object_ttl, then revalidates with
        # If-None-Match, which heals a missed purge. Players get their own Cache-Control from the edge.
        "Cache-Control": "private" if record.require_signed else "public",
        "Accept-Ranges": "bytes",
        "X-Mediaedge-File-Id": record.id,
        "X-Mediaedge-Tenant": record.tenant_id,
        "X-Mediaedge-Access": "signed" if record.require_signed else "public",
    }


async def _file_object(state: OriginState, key: str) -> Served | None:
    """Backend, size and policy headers of a ready file; stream outputs are found by ``stream_object``."""
    record = await state.store.files.by_key(key)
    if record is None or record.status != "ready":
        return None
    bucket = await state.store.buckets.get(record.tenant_id, record.bucket)
    return (state.backend(bucket), record.size, policy_headers(record)) if bucket else None


@describe(responses={200: "The object", 206: "A range of the object", 304: "Not modified"}, errors=(416,))
async def edge_object(request: Request) -> Response:
    """An object's bytes (whole or one range) with its policy headers, for an edge."""
    state = _require_edge(request)
    try:
        key = validate_key(request.path_params["key"])
    except InvalidKey as exc:
        raise HTTPError(400, str(exc)) from None
    found = await _file_object(state, key) or await stream_object(state, key) or await asset_object(state, key)
    if found is None:
        raise HTTPError(404, "Object not found", "FILE_NOT_FOUND")
    backend, size, headers = found
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    start, end, status = 0, size - 1, 200
    if (match := _RANGE.match(request.headers.get("range", ""))) and size:
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if start > end:
            raise HTTPError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    if request.method == "HEAD" or not size:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(backend.open_range(key, start, end), status_code=status, headers=headers)


def edge_whitelist(state: OriginState, domains: list[str]) -> list[str]:
    """The whitelist edges enforce: the tenant's, plus the origin's own host when it has one.

    The origin's pages that play media (the embed player, the dashboard's preview of it) send the
    origin's ``Origin`` with hls.js' requests; they enforce the tenant's whitelist themselves (the
    player's framing checks), so the edge lets them through.
    """
    own = urlsplit(state.settings.origin.url).hostname
    return [*domains, own] if domains and own and own not in domains else domains


class EdgeTenantPolicy(BaseModel):
    id: str
    whitelisted_domains: list[str] = Field(description="The tenant's, plus the origin's own host")
    app_ids: list[str]


class EdgeRegistration(BaseModel):
    url: str = Field(description="The edge's own http(s) base URL, where the origin sends purges")
    region: str = ""


class EdgeRegistered(EdgeRegistration):
    heartbeat: int = Field(description="Seconds until the edge should register again")


@describe(responses={200: EdgeTenantPolicy})
async def edge_tenant(request: Request) -> JSON:
    """A tenant's policy for edges: whitelisted domains (with the origin's host) and app IDs."""
    state = _require_edge(request)
    tenant = await state.store.tenants.get(request.path_params["tenant_id"])
    if tenant is None:
        raise HTTPError(404, "Tenant not found", "TENANT_NOT_FOUND")
    domains = edge_whitelist(state, tenant.whitelisted_domains)
    return JSON({"id": tenant.id, "whitelisted_domains": domains, "app_ids": tenant.app_ids})


@describe(request=EdgeRegistration, responses={200: EdgeRegistered})
async def edge_register(request: Request) -> JSON:
    """An edge announces ``{url, region}`` at start and every heartbeat, so deletes purge it too."""
    state = _require_edge(request)
    body = await json_body(request)
    url = (str_field(body, "url", required=True) or "").rstrip("/")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise HTTPError(400, "url must be the edge's http(s) base URL")
    region = str_field(body, "region") or ""
    await state.store.edges.register(url, region)
    return JSON({"url": url, "region": region, "heartbeat": state.settings.cluster.edge_heartbeat})


#: Counters one report may carry (an edge sends more in several reports).
MAX_USAGE_COUNTERS = 1000
Count = Annotated[int, Field(ge=0, le=2**62)]


class EdgeUsageCounter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Annotated[int, Field(ge=0, le=10**6, description="UTC day, as days since the epoch")]
    tenant: Annotated[str, Field(min_length=1, max_length=200)]
    requests: Count
    bytes: Count


class EdgeUsageReport(BaseModel):
    """An edge process's cumulative counters: requests and body bytes delivered per day and tenant."""

    model_config = ConfigDict(extra="forbid")

    edge: Annotated[str, Field(min_length=1, max_length=2000, description="The edge's registration URL")]
    region: Annotated[str, Field(max_length=200)] = ""
    instance: Annotated[
        str, Field(min_length=1, max_length=64, description="This edge process's id, new at each start")
    ]
    counters: Annotated[list[EdgeUsageCounter], Field(max_length=MAX_USAGE_COUNTERS)]


class EdgeUsageStored(BaseModel):
    stored: Annotated[int, Field(description="Counters kept (those of tenants the origin knows)")]


@describe(request=EdgeUsageReport, responses={200: EdgeUsageStored})
async def edge_usage(request: Request) -> JSON:
    """An edge process reports what it delivered: cumulative per-day, per-tenant counters.

    Each (edge, instance, day, tenant) keeps the largest value it was sent, so a repeated or retried
    report changes nothing; a restarted edge reports under a new instance id."""
    state = _require_edge(request)
    report = await model_body(request, EdgeUsageReport)
    counters = [UsageCounter(c.day, c.tenant, c.requests, c.bytes) for c in report.counters]
    stored = await state.store.edges.record_usage(report.edge, report.region, report.instance, counters)
    return JSON({"stored": stored})


routes = [
    Route("/_edge/objects/{key:path}", edge_object, methods=["GET", "HEAD"]),
    Route("/_edge/tenants/{tenant_id}", edge_tenant, methods=["GET"]),
    Route(REGISTER_PATH, edge_register, methods=["POST"]),
    Route(USAGE_PATH, edge_usage, methods=["POST"]),
]
