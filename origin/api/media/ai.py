"""``/api/v1/media/ai/*``: AI generation in the media service API (envelope ``{"data": ...}``).

- ``POST /api/v1/media/ai/generate-caption`` ``{assetId, language, reviewRequired?}``
- ``POST /api/v1/media/ai/generate-audio`` ``{text, voice, language, format?}``
- ``POST /api/v1/media/ai/generate-image`` ``{prompt, size, style?, aspectRatio?}``
- ``GET /api/v1/media/ai/voices[?language=]`` — the voices generate-audio accepts
- ``GET /api/v1/media/ai/jobs/{id}`` — a generation job's status, progress and result
- ``GET /api/v1/media/ai/usage`` — this month's usage per unit beside the tenant's budgets

A new generation answers 202 with its job; the same request again answers 200 with the same job
(``Idempotent-Replayed: true``), and is not charged twice. Translation only: the rules live in
:mod:`origin.ai.service`. Self-contained: it carries its own envelope and Bearer check, so it does
not depend on the rest of the media API's module.
"""

from __future__ import annotations

import re
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
from origin.auth import bearer_token, require_bearer
from origin.http import JSON, json_body
from origin.state import OriginState, get_state
from origin.store import Tenant
from origin.store.ai import Generation

BASE = "/api/v1/media/ai"
USER_HEADER = "x-user-id"
_USER = re.compile(r"[A-Za-z0-9._@:+-]{1,128}")
FORMATS = ("mp3", "ogg", "wav", "m4a")


async def caller(request: Request) -> tuple[OriginState, Tenant, str]:
    """The state, the Bearer key's tenant, and the user the rate limit counts: ``X-User-Id`` when
    given (the media API's user), else ``key:<the API key's id>``."""
    state = get_state(request)
    token = bearer_token(request)
    found = await state.store.api_keys.authenticate(token) if token else None
    if found is None:
        await require_bearer(request)  # answers the common 401 (auth.missing / auth.invalid)
        raise HTTPError(401, "Invalid or revoked API key", "auth.invalid")
    tenant, key = found
    user = request.headers.get(USER_HEADER)
    if user is not None and not _USER.fullmatch(user):
        raise HTTPError(400, "X-User-Id must be 1-128 letters, digits or ._@:+-", "validation.user.invalid")
    return state, tenant, user or f"key:{key.id}"


def _envelope(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSON:
    """The media API's envelope, ``{"data": ...}``."""
    return JSON({"data": data}, status_code=status, headers=headers)


def _job(generation: Generation, created: bool) -> JSON:
    if created:
        return _envelope(generation_dict(generation), 202, {"Location": f"{BASE}/jobs/{generation.id}"})
    return _envelope(generation_dict(generation), 200, {"Idempotent-Replayed": "true"})


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


async def generate_caption(request: Request) -> JSON:
    state, tenant, user = await caller(request)
    body = await json_body(request)
    review = body.get("reviewRequired", False)
    if not isinstance(review, bool):
        raise HTTPError(400, "reviewRequired must be a boolean", "validation.type")
    req = CaptionRequest(str(_text(body, "assetId")), str(_text(body, "language")), review)
    return _job(*await request_caption(state, tenant, user, req))


async def generate_audio(request: Request) -> JSON:
    state, tenant, user = await caller(request)
    body = await json_body(request)
    fmt = _text(body, "format", required=False) or "mp3"
    if fmt not in FORMATS:
        raise HTTPError(400, f"format must be one of {', '.join(FORMATS)}", "validation.format")
    voice = _text(body, "voice", required=False) or ""
    req = SpeechRequest(str(_text(body, "text")), voice, str(_text(body, "language")), fmt)
    return _job(*await request_speech(state, tenant, user, req))


async def generate_image(request: Request) -> JSON:
    state, tenant, user = await caller(request)
    body = await json_body(request)
    try:
        req = ImageRequest(
            str(_text(body, "prompt")),
            str(_text(body, "size")),
            _text(body, "style", required=False),
            _text(body, "aspectRatio", required=False),
        )
    except AIError as exc:
        raise ai_http_error(exc) from None
    return _job(*await request_image(state, tenant, user, req))


async def list_voices(request: Request) -> JSON:
    state, _, _ = await caller(request)
    language = request.query_params.get("language") or None
    return _envelope(
        [
            {
                "id": voice.id,
                "name": voice.name,
                "language": voice.language,
                "gender": voice.gender,
                "provider": provider,
            }
            for provider, voice in await voices(state, language)
        ]
    )


async def get_usage(request: Request) -> JSON:
    state, tenant, _ = await caller(request)
    return _envelope(await usage_report(state.store, state.settings, tenant.id))


async def get_job(request: Request) -> JSON:
    state, tenant, _ = await caller(request)
    return _envelope(generation_dict(await tenant_generation(state, tenant, request.path_params["job_id"])))


routes = [
    Route(f"{BASE}/generate-caption", generate_caption, methods=["POST"]),
    Route(f"{BASE}/generate-audio", generate_audio, methods=["POST"]),
    Route(f"{BASE}/generate-image", generate_image, methods=["POST"]),
    Route(f"{BASE}/voices", list_voices, methods=["GET"]),
    Route(f"{BASE}/usage", get_usage, methods=["GET"]),
    Route(f"{BASE}/jobs/{{job_id}}", get_job, methods=["GET"]),
]
