"""The asset URLs (302 to the edge, or an uploaded thumbnail) and the transcode price."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.videos import schemas as s
from origin.api.videos.auth import video_tenant
from origin.api.videos.shape import success
from origin.http import JSON
from origin.openapi import describe
from origin.state import get_state
from origin.videos.cost import transcode_cost
from origin.videos.playback import TARGETS, Target, playback_redirect
from origin.videos.thumbnails import ORIGINAL, Thumbnail


@describe(query=s.COST_QUERY, required_query=("qualities", "duration"), responses={200: s.VideoCostAnswer})
async def cost(request: Request) -> JSON:
    """The transcoding price of qualities for a duration, and whether the tenant's credit covers it."""
    state = get_state(request)
    tenant = await video_tenant(request)
    qualities = [q.strip() for q in request.query_params.get("qualities", "").split(",") if q.strip()]
    try:
        duration = float(request.query_params.get("duration", ""))
    except ValueError:
        raise HTTPError(400, "duration must be a number of seconds", "COST_INVALID") from None
    found = await transcode_cost(state, tenant, qualities, duration)
    return success({"price": found.price, "is_enough": found.is_enough})


async def asset(request: Request, target: Target) -> Response:
    """``GET /api/videos/{id}/{target}``: 302 to the edge URL (an uploaded thumbnail is answered here)."""
    state = get_state(request)
    params = request.query_params
    found = await playback_redirect(
        state,
        request.path_params["video_id"],
        target,
        params.get("expires"),
        params.get("signature"),
        resolution=params.get("resolution") or ORIGINAL,
        player_format=params.get("format") or "hls",
    )
    if isinstance(found, Thumbnail):
        return StreamingResponse(
            found.chunks,
            media_type=found.media_type,
            headers={"Content-Length": str(found.size), "Cache-Control": "private, max-age=60"},
        )
    return RedirectResponse(found, status_code=302, headers={"Cache-Control": "no-store"})


#: What each asset URL answers besides the 302 to the edge.
_ASSET_QUERY: dict[Target, dict[str, Any]] = {
    "thumbnail": {"resolution": {"type": "string", "description": "original, or a height such as 720"}},
    "player": {"format": {"type": "string", "enum": ["hls", "dash"], "default": "hls"}},
}


def _asset_route(target: Target) -> Route:
    thumbnail = target == "thumbnail"

    @describe(
        summary=f"The video's {target} URL: 302 to the edge" + (" (or the uploaded thumbnail)" if thumbnail else ""),
        query={**s.LINK_QUERY, **_ASSET_QUERY.get(target, {})},
        responses={302: "To the edge (Location)", **({200: "The uploaded thumbnail (image/*)"} if thumbnail else {})},
        errors=(403, *((502,) if thumbnail else ())),
    )
    async def endpoint(request: Request) -> Response:
        return await asset(request, target)

    return Route(f"/api/videos/{{video_id}}/{target}", endpoint, methods=["GET"], name=f"video_{target}")


routes = [Route("/api/videos/cost", cost, methods=["GET"]), *(_asset_route(target) for target in TARGETS)]
