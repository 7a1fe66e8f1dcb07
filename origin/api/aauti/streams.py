"""``/streams/v1``: create stream copies (seed 000), and get, list and delete them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.aauti.shapes import Done, Stream, StreamPage, StreamsCreated, StreamsRequest
from origin.auth import require_tenant
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state
from origin.streams.events import STATUSES
from origin.streams.service import create_streams, delete_stream, stream_dict, tenant_stream

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@describe(request=StreamsRequest, responses={201: StreamsCreated}, errors=(409,))
async def create(request: Request) -> JSON:
    """Start an HLS/DASH stream copy of a file or URL with a provider."""
    state = get_state(request)
    tenant = await require_tenant(request)
    return JSON(await create_streams(state, tenant, await json_body(request)), status_code=201)


@describe(responses={200: Stream})
async def get_stream(request: Request) -> JSON:
    """One stream copy: status, progress, playlist URLs."""
    state = get_state(request)
    tenant = await require_tenant(request)
    return JSON(stream_dict(await tenant_stream(state, tenant, request.path_params["stream_id"])))


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise HTTPError(400, f"{name} must be an integer from {low} to {high}")
    return value


@describe(
    query={
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
        "status": {"type": "string", "enum": list(STATUSES)},
    },
    responses={200: StreamPage},
)
async def list_streams(request: Request) -> JSON:
    """The tenant's streams, newest first: ``?limit=`` (≤ 100), ``?offset=``, ``?status=``."""
    state = get_state(request)
    tenant = await require_tenant(request)
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, 2**31)
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        raise HTTPError(400, f"status must be one of {', '.join(STATUSES)}")
    streams, total = await state.store.streams.page(tenant.id, limit=limit, offset=offset, status=status)
    return JSON({"streams": [stream_dict(s) for s in streams], "total": total, "limit": limit, "offset": offset})


@describe(responses={200: Done})
async def delete(request: Request) -> JSON:
    """Delete a stream copy and its outputs."""
    state = get_state(request)
    tenant = await require_tenant(request)
    await delete_stream(state, tenant, request.path_params["stream_id"])
    return JSON({"success": True, "message": "Stream deleted successfully"})


routes = [
    Route("/streams/v1/create", create, methods=["POST"]),
    Route("/streams/v1", list_streams, methods=["GET"]),
    Route("/streams/v1/{stream_id}", get_stream, methods=["GET"]),
    Route("/streams/v1/{stream_id}", delete, methods=["DELETE"]),
]
