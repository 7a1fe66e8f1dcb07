"""Signed stream URLs: ``GET /api/v1/media/{id}/stream/hls/{variant}/index.m3u8`` and
``GET /api/v1/media/{id}/stream/dash/{variant}.mpd`` answer 302 to the edge."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from origin.api.media.envelope import authenticate
from origin.api.media.schemas import media_operation
from origin.media.assets import tenant_asset
from origin.media.delivery import stream_url


async def _redirect(request: Request, protocol: str) -> Response:
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    url = await stream_url(caller.state, asset, protocol, request.path_params["variant"], caller.user)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "private, no-store"})


@media_operation(responses={302: "To the signed HLS playlist at the edge (Location)"}, errors=(409, 451))
async def hls(request: Request) -> Response:
    """A variant's HLS playlist (``master`` for all): 302 to its signed edge URL."""
    return await _redirect(request, "hls")


@media_operation(responses={302: "To the signed DASH manifest at the edge (Location)"}, errors=(409, 451))
async def dash(request: Request) -> Response:
    """A variant's DASH manifest (``master`` for all): 302 to its signed edge URL."""
    return await _redirect(request, "dash")


routes = [
    Route("/api/v1/media/{id}/stream/hls/{variant}/index.m3u8", hls, methods=["GET"]),
    Route("/api/v1/media/{id}/stream/dash/{variant}.mpd", dash, methods=["GET"]),
]
