"""Developer registration: ``POST /api/developer`` and ``GET /api/developer``, with a tenant API key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.auth import require_bearer
from origin.editor import developers
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


def own_urls(request: Request) -> dict[str, str]:
    """mediaedge's own custom URLs, under the origin's public URL (else the one the request used)."""
    return developers.own_urls(get_state(request).settings.origin.public_url or str(request.base_url))


@describe(request=s.EditorDeveloperRequest, responses={201: s.EditorDeveloper, 200: s.EditorDeveloper})
async def register(request: Request) -> JSON:
    """Register the tenant as an editor developer, or change its profile (201 with the apiKey, once).

    Already registered: 200 (with a new apiKey when `rotateApiKey` is set)."""
    state = get_state(request)
    tenant = await require_bearer(request)
    body = await json_body(request)
    done = await developers.register(
        state.store, state.settings, tenant.id, body, rotate_key=bool(body.get("rotateApiKey"))
    )
    view = developers.public_view(state.settings, done.developer, own_urls(request))
    if done.api_key is not None:
        view["apiKey"] = done.api_key
    return JSON(view, 201 if done.api_key is not None and not body.get("rotateApiKey") else 200)


@describe(responses={200: s.EditorDeveloper})
async def show(request: Request) -> JSON:
    """The tenant's developer profile (never its credentials)."""
    state = get_state(request)
    tenant = await require_bearer(request)
    developer = await state.store.editor.developer(tenant.id)
    if developer is None:
        raise HTTPError(404, "Not registered as an editor developer", "editor.developer.missing")
    return JSON(developers.public_view(state.settings, developer, own_urls(request)))


routes: list[BaseRoute] = [
    Route("/api/developer", register, methods=["POST"]),
    Route("/api/developer", show, methods=["GET"]),
]
