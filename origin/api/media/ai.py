"""``/api/v1/media/ai/*``: AI generation in the media service API (envelope ``{"data": ...}``).

- ``POST /api/v1/media/ai/generate-caption`` ``{assetId, language, reviewRequired?}``
- ``POST /api/v1/media/ai/generate-audio`` ``{text, voice, language, format?}``
- ``POST /api/v1/media/ai/generate-image`` ``{prompt, size, style?, aspectRatio?}``
- ``GET /api/v1/media/ai/voices[?language=]`` — the voices generate-audio accepts
- ``GET /api/v1/media/ai/jobs/{id}`` — a generation job's status, progress and result
- ``GET /api/v1/media/ai/usage`` — this month's usage per unit beside the tenant's budgets

A new generation answers 202 with its job; the same request again answers 200 with the same job
(``Idempotent-Replayed: true``), and is not charged twice. generate-caption is rate limited per user
(``media.caption_rate`` per ``media.rate_window``, like the rest of the media API). Translation
only: the rules live in :mod:`origin.ai.service`; envelope, caller and rate limits are the media
API's (:mod:`origin.api.media.envelope`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.ai import AIError, ImageRequest
from mediaedge.errors import HTTPError
from origin.ai.service import (
    CaptionRequest,
    SpeechRequest,
    ai_http_error,
    generation_dict,
    request_caption,
    request_image,
    request_speech,
    tenant_generation,
    usage_report,
    voices,
)
from origin.api.media import schemas as s
from origin.api.media.envelope import authenticate, body, data, rate_limit
from origin.api.media.schemas import FORMATS, media_operation
from origin.http import JSON
from origin.media.captions import language_tag
from origin.store.ai import Generation

BASE = "/api/v1/media/ai"


def _job(generation: Generation, created: bool, headers: dict[str, str] | None = None) -> JSON:
    if created:
        return data(generation_dict(generation), 202, {**(headers or {}), "Location": f"{BASE}/jobs/{generation.id}"})
    return data(generation_dict(generation), 200, {**(headers or {}), "Idempotent-Replayed": "true"})


def _text(body: dict[str, Any], name: str, *, required: bool = True, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is None:
        if required:
            raise HTTPError(400, f"{name} is required", "validation.required")
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{name} must be a string", "validation.type")
    if required and not value.strip():
        raise HTTPError(400, f"{name} must not be empty", "validation.required")
    return value.strip() if name != "text" and name != "prompt" else value


@media_operation(
    request=s.MediaCaptionGeneration,
    responses={202: s.MediaGenerationAnswer, 200: s.MediaGenerationAnswer},
    errors=(402, 409, 422, 429, 451, 503),
)
async def generate_caption(request: Request) -> JSON:
    """Generate captions of a video or audio asset (202 with the job; the same request again: 200)."""
    caller = await authenticate(request)
    headers = await rate_limit(caller, "caption", caller.state.settings.media.caption_rate)
    fields = await body(request)
    review = fields.get("reviewRequired", False)
    if not isinstance(review, bool):
        raise HTTPError(400, "reviewRequired must be a boolean", "validation.type")
    req = CaptionRequest(str(_text(fields, "assetId")), language_tag(_text(fields, "language")), review)
    return _job(*await request_caption(caller.state, caller.tenant, caller.user, req), headers)


@media_operation(
    request=s.MediaSpeechGeneration,
    responses={202: s.MediaGenerationAnswer, 200: s.MediaGenerationAnswer},
    errors=(402, 422, 503),
)
async def generate_audio(request: Request) -> JSON:
    """Generate spoken audio of a text (an audio asset; 202 with the job, the same request again: 200)."""
    caller = await authenticate(request)
    fields = await body(request)
    fmt = _text(fields, "format", required=False) or "mp3"
    if fmt not in FORMATS:
        raise HTTPError(400, f"format must be one of {', '.join(FORMATS)}", "validation.format")
    voice = _text(fields, "voice", required=False) or ""
    req = SpeechRequest(str(_text(fields, "text")), voice, language_tag(_text(fields, "language")), fmt)
    return _job(*await request_speech(caller.state, caller.tenant, caller.user, req))


@media_operation(
    request=s.MediaImageGeneration,
    responses={202: s.MediaGenerationAnswer, 200: s.MediaGenerationAnswer},
    errors=(402, 422, 503),
)
async def generate_image(request: Request) -> JSON:
    """Generate an image from a prompt (an image asset; 202 with the job, the same request again: 200)."""
    caller = await authenticate(request)
    fields = await body(request)
    try:
        req = ImageRequest(
            str(_text(fields, "prompt")),
            str(_text(fields, "size")),
            _text(fields, "style", required=False),
            _text(fields, "aspectRatio", required=False),
        )
    except AIError as exc:
        raise ai_http_error(exc) from None
    return _job(*await request_image(caller.state, caller.tenant, caller.user, req))


@media_operation(query={"language": s.LANG_QUERY["lang"]}, responses={200: s.MediaVoices})
async def list_voices(request: Request) -> JSON:
    """The voices generate-audio accepts, of every configured speech provider."""
    caller = await authenticate(request)
    language = request.query_params.get("language") or None
    return data(
        [
            {
                "id": voice.id,
                "name": voice.name,
                "language": voice.language,
                "gender": voice.gender,
                "provider": provider,
            }
            for provider, voice in await voices(caller.state, language)
        ]
    )


@media_operation(responses={200: s.MediaUsageAnswer})
async def get_usage(request: Request) -> JSON:
    """This month's AI usage per unit beside the tenant's budgets."""
    caller = await authenticate(request)
    return data(await usage_report(caller.state.store, caller.state.settings, caller.tenant.id))


@media_operation(responses={200: s.MediaGenerationAnswer})
async def get_job(request: Request) -> JSON:
    """A generation job: status, progress, charge and result."""
    caller = await authenticate(request)
    generation = await tenant_generation(caller.state, caller.tenant, request.path_params["job_id"])
    return data(generation_dict(generation))


routes = [
    Route(f"{BASE}/generate-caption", generate_caption, methods=["POST"]),
    Route(f"{BASE}/generate-audio", generate_audio, methods=["POST"]),
    Route(f"{BASE}/generate-image", generate_image, methods=["POST"]),
    Route(f"{BASE}/voices", list_voices, methods=["GET"]),
    Route(f"{BASE}/usage", get_usage, methods=["GET"]),
    Route(f"{BASE}/jobs/{{job_id}}", get_job, methods=["GET"]),
]
