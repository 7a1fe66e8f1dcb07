"""``GET|POST /api/v1/media/{id}/captions``, ``PATCH|DELETE /api/v1/media/{id}/captions/{lang}`` (approve,
withdraw, remove a language's track) and ``GET /api/v1/media/{id}/transcript``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.media import schemas as s
from origin.api.media.envelope import Caller, authenticate, body, data
from origin.api.media.schemas import media_operation
from origin.api.media.shapes import caption_json
from origin.media import tracks
from origin.media.assets import require_not_quarantined, tenant_asset
from origin.media.captions import language_tag
from origin.media.delivery import CAPTIONS_SUFFIX, directory_url
from origin.store import Asset, Caption


async def _captions_json(caller: Caller, asset: Asset, captions: list[Caption]) -> list[dict[str, Any]]:
    """The captions, each with the signed edge URL of its WebVTT file."""
    directory = await directory_url(caller.state, asset, CAPTIONS_SUFFIX, caller.user)
    return [
        caption_json(caller.state, asset.id, c, f"{directory}{c.key.rsplit('/', 1)[-1]}" if directory else None)
        for c in captions
    ]


@media_operation(query=s.LANG_QUERY, responses={200: s.MediaCaptions}, errors=(451,))
async def list_captions(request: Request) -> Response:
    """The asset's captions (of one language with ``lang``), each with its signed WebVTT URL."""
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    require_not_quarantined(asset)
    lang = request.query_params.get("lang")
    language = language_tag(lang) if lang else None
    captions = [c for c in await caller.state.store.captions.list(asset.id) if language in (None, c.language)]
    return data(await _captions_json(caller, asset, captions))


@media_operation(request=s.MediaCaptionRequest, responses={201: s.MediaCaptionAnswer}, errors=(409, 503))
async def add_caption(request: Request) -> Response:
    """Add (or replace) a language's captions from WebVTT or SRT text."""
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
    return data((await _captions_json(caller, asset, [caption]))[0], status=201)


def _track(request: Request) -> tuple[str, str | None]:
    """The ``{lang}`` of the path (BCP 47) and the optional ``source`` query (``manual``, ``generated``)."""
    return language_tag(request.path_params["lang"]), request.query_params.get("source") or None


@media_operation(request=s.MediaCaptionApproval, query=s.SOURCE_QUERY, responses={200: s.MediaCaptions}, errors=(409,))
async def update_captions(request: Request) -> Response:
    """Approve or withdraw a language's captions; answers them, changed.

    ``PATCH /api/v1/media/{id}/captions/{lang}`` ``{"approved": bool}``."""
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    language, source = _track(request)
    approved = (await body(request)).get("approved")
    if not isinstance(approved, bool):
        raise HTTPError(400, "approved must be a boolean", "validation.captions.invalid")
    captions = await tracks.approve_captions(caller.state, asset, language, approved, source)
    return data(await _captions_json(caller, asset, captions))


@media_operation(query=s.SOURCE_QUERY, responses={204: "Deleted"}, errors=(503,))
async def delete_captions(request: Request) -> Response:
    """Remove a language's captions (204)."""
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    language, source = _track(request)
    await tracks.delete_captions(caller.state, caller.tenant, asset, language, source)
    return Response(status_code=204)


@media_operation(query=s.LANG_QUERY, responses={200: s.MediaTranscriptAnswer}, errors=(451,))
async def transcript(request: Request) -> Response:
    """The asset's transcript in a language: its text and timed cues."""
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
    Route("/api/v1/media/{id}/captions/{lang}", update_captions, methods=["PATCH"]),
    Route("/api/v1/media/{id}/captions/{lang}", delete_captions, methods=["DELETE"]),
    Route("/api/v1/media/{id}/transcript", transcript, methods=["GET"]),
]
