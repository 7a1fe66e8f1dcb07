"""``GET|POST /api/v1/media/{id}/captions`` and ``GET /api/v1/media/{id}/transcript``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.media.envelope import authenticate, body, data
from origin.api.media.shapes import caption_json
from origin.media import tracks
from origin.media.assets import require_not_quarantined, tenant_asset
from origin.media.captions import language_tag
from origin.media.delivery import CAPTIONS_SUFFIX, directory_url


async def list_captions(request: Request) -> Response:
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    require_not_quarantined(asset)
    lang = request.query_params.get("lang")
    language = language_tag(lang) if lang else None
    captions = [c for c in await caller.state.store.captions.list(asset.id) if language in (None, c.language)]
    directory = await directory_url(caller.state, asset, CAPTIONS_SUFFIX, caller.user)
    return data(
        [
            caption_json(caller.state, asset.id, c, f"{directory}{c.key.rsplit('/', 1)[-1]}" if directory else None)
            for c in captions
        ]
    )


async def add_caption(request: Request) -> Response:
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    payload = await body(request)
    language = language_tag(payload.get("language"))
    content = payload.get("content")
    if not isinstance(content, str) or not content.strip():
        raise HTTPError(400, "content must be the WebVTT or SRT text", "validation.captions.invalid")
    approved = payload.get("approved", True)
    if not isinstance(approved, bool):
        raise HTTPError(400, "approved must be a boolean", "validation.captions.invalid")
    label = payload.get("label")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise HTTPError(400, "label must be a non-empty string", "validation.captions.invalid")
    caption = await tracks.add_caption(
        caller.state, caller.tenant, asset, language, content, approved=approved, label=label
    )
    directory = await directory_url(caller.state, asset, CAPTIONS_SUFFIX, caller.user)
    url = f"{directory}{caption.key.rsplit('/', 1)[-1]}" if directory else None
    return data(caption_json(caller.state, asset.id, caption, url), status=201)


async def transcript(request: Request) -> Response:
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    require_not_quarantined(asset)
    lang = request.query_params.get("lang")
    found = await tracks.transcript_of(caller.state, caller.tenant, asset, language_tag(lang) if lang else None)
    if found is None:
        raise HTTPError(404, "The asset has no transcript or captions in that language", "media.transcript_not_found")
    language, text, cues, source = found
    return data(
        {
            "language": language,
            "source": source,
            "text": text,
            "cues": [{"start": c.start, "end": c.end, "text": c.text} for c in cues],
        }
    )


routes = [
    Route("/api/v1/media/{id}/captions", list_captions, methods=["GET"]),
    Route("/api/v1/media/{id}/captions", add_caption, methods=["POST"]),
    Route("/api/v1/media/{id}/transcript", transcript, methods=["GET"]),
]
