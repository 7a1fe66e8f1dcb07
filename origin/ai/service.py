"""Requesting AI generations: validation, moderation, idempotency and budget, then a job (the caller's
rate limit is the media API's, applied before: :mod:`origin.api.media.ai`).

Every request is checked in this order, before any work starts:

1. its provider exists for the language and its fields are valid (``AIError`` → its status and code);
2. its prompt or text passes every ``moderate_prompt`` implementation → else 422 ``ai.refused.safety``;
3. the same request (tenant, kind, provider, model, canonical body — the prompt hash) was made
   before → that generation is returned, not charged again (a failed one is queued again);
4. this calendar month's usage of the kind plus this request's estimate stays within the tenant's
   budget → else 402 ``ai.refused.budget``.

Then, in one transaction, the generation row (its unique key makes two identical requests arriving
at once one generation) and its job. The job (:mod:`origin.ai.jobs`) records the actual charge.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from mediaedge.ai import AIConfig, AIError, AIProviders, ImageRequest, Voice
from mediaedge.errors import HTTPError
from mediaedge.settings import Settings
from origin.ai.moderation import install as install_blocklist
from origin.catalogue.ids import new_id
from origin.catalogue.status import Status
from origin.http import iso_time
from origin.jobs import enqueue
from origin.state import OriginState
from origin.store import IntegrityError, Store, Tenant
from origin.store.ai import Generation
from origin.store.db import Conn
from origin.webhooks import Event

Kind = Literal["caption", "speech", "image"]
JOB_KINDS: dict[str, str] = {"caption": "ai.caption", "speech": "ai.speech", "image": "ai.image"}
#: What each kind is charged in, as budgets, usage and ``mediaedge ai`` name them.
UNITS: dict[str, str] = {"image": "images", "speech": "audio_seconds", "caption": "caption_minutes"}
#: Spoken words per second assumed when estimating a text's audio before it is spoken (150 wpm).
WORDS_PER_SECOND = 2.5


@dataclass(frozen=True)
class CaptionRequest:
    asset_id: str
    language: str
    review_required: bool = False


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice: str
    language: str
    format: str = "mp3"


def providers(state: OriginState) -> AIProviders:
    install_blocklist(state.pm, state.store)
    return AIProviders(state.settings, state.pm)


def ai_http_error(exc: AIError) -> HTTPError:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(math.ceil(retry_after))
    return HTTPError(exc.status, str(exc), exc.code, headers)


def month_start(at: float | None = None) -> float:
    """The start of the calendar month (UTC) holding ``at``: budgets count from there."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


async def budgets(store: Store, settings: Settings, tenant_id: str) -> dict[str, float]:
    """The tenant's budget per unit (0: unlimited): its own where set, else the setting."""
    config = settings.plugin("ai", AIConfig)
    defaults = {
        "images": config.budget_images,
        "audio_seconds": config.budget_audio_seconds,
        "caption_minutes": config.budget_caption_minutes,
    }
    own = (await store.ai.policy(tenant_id)).budgets
    return {unit: float(own.get(unit, default)) for unit, default in defaults.items()}


async def usage(store: Store, tenant_id: str, conn: Conn | None = None) -> dict[str, float]:
    """This month's charged units per unit name."""
    by_kind = await store.ai.usage(tenant_id, month_start(), conn)
    return {unit: round(by_kind.get(kind, 0.0), 3) for kind, unit in UNITS.items()}


async def usage_report(store: Store, settings: Settings, tenant_id: str) -> dict[str, Any]:
    """This month's usage beside the budgets, per unit: what ``mediaedge ai usage`` and the API show."""
    used, limits = await usage(store, tenant_id), await budgets(store, settings, tenant_id)
    return {
        "period": {"from": iso_time(month_start())},
        "units": {unit: {"used": used[unit], "budget": limits[unit] or None} for unit in UNITS.values()},
    }


# -- the three kinds -------------------------------------------------------------------------------


async def request_caption(
    state: OriginState, tenant: Tenant, user_id: str, req: CaptionRequest
) -> tuple[Generation, bool]:
    """Queue captions for one of the tenant's assets (its audio is recognised by the worker)."""
    asset = await state.store.assets.get(tenant.id, req.asset_id)
    if asset is None or asset.status == Status.DELETED:
        raise HTTPError(404, f"No asset with id {req.asset_id!r}", "media.not_found")
    if asset.kind not in ("video", "audio"):
        raise HTTPError(422, f"asset {asset.id} is {asset.kind}: only video and audio have speech", "ai.rejected")
    if asset.status == Status.QUARANTINED:
        raise HTTPError(451, "The asset is quarantined", "media.quarantined")
    if not asset.file_id:
        raise HTTPError(409, "The asset has no media yet", "media.transcoding")
    try:
        provider = providers(state).caption(req.language)
    except AIError as exc:
        raise ai_http_error(exc) from None
    minutes = (asset.duration or 0.0) / 60
    body = {"assetId": asset.id, "language": req.language, "reviewRequired": req.review_required}
    return await _submit(state, tenant, user_id, "caption", provider.name, provider.model, body, None, minutes)


async def request_speech(
    state: OriginState, tenant: Tenant, user_id: str, req: SpeechRequest
) -> tuple[Generation, bool]:
    """Queue spoken audio of ``req.text``; the result is an audio asset."""
    if not req.text.strip():
        raise HTTPError(422, "text: must not be empty", "ai.rejected")
    try:
        provider = await providers(state).speech(req.language)
        known = {v.id for v in await provider.voices()}
    except AIError as exc:
        raise ai_http_error(exc) from None
    if req.voice and req.voice not in known:
        raise HTTPError(
            422,
            f"voice: {provider.name} has no voice {req.voice!r} (GET /api/v1/media/ai/voices lists them)",
            "ai.rejected",
        )
    body = asdict(req)
    seconds = len(req.text.split()) / WORDS_PER_SECOND
    return await _submit(state, tenant, user_id, "speech", provider.name, provider.model, body, req.text, seconds)


async def request_image(state: OriginState, tenant: Tenant, user_id: str, req: ImageRequest) -> tuple[Generation, bool]:
    """Queue a picture from ``req.prompt``; the result is an image asset."""
    try:
        provider = providers(state).image()
    except AIError as exc:
        raise ai_http_error(exc) from None
    body = {"prompt": req.prompt, "size": req.size, "style": req.style, "aspectRatio": req.aspect_ratio}
    return await _submit(state, tenant, user_id, "image", provider.name, provider.model, body, req.prompt, 1.0)


async def voices(state: OriginState, language: str | None = None) -> list[tuple[str, Voice]]:
    """``(provider, voice)`` of every listed speech provider, optionally only those for ``language``."""
    registry = providers(state)
    found: list[tuple[str, Voice]] = []
    for name in registry.config.speech:
        cls = registry.speakers.get(name)
        if cls is None:
            continue
        try:
            provider = cls.from_settings(state.settings)
            listed = await provider.voices()
        except AIError:
            continue  # not configured (or down): its voices are not offered
        found += [(name, v) for v in listed if language is None or _speaks(v, language)]
    return found


def _speaks(voice: Voice, language: str) -> bool:
    from mediaedge.ai import language_in

    return language_in([voice.language], language)


def idempotency_key(kind: str, provider: str, model: str, body: dict[str, Any]) -> str:
    """SHA-256 of the kind, provider, model and the canonical request (sorted keys)."""
    canonical = orjson.dumps(
        {"kind": kind, "provider": provider, "model": model, "request": body}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


async def _submit(
    state: OriginState,
    tenant: Tenant,
    user_id: str,
    kind: Kind,
    provider: str,
    model: str,
    body: dict[str, Any],
    prompt: str | None,
    estimate: float,
) -> tuple[Generation, bool]:
    """Moderate, deduplicate, charge and queue; ``(generation, created)``."""
    if prompt is not None:
        try:
            refusal = await providers(state).moderate(prompt, kind, tenant.id)
        except AIError as exc:
            raise ai_http_error(exc) from None
        if refusal is not None:
            raise HTTPError(422, f"Refused by moderation ({refusal.source}): {refusal.reason}", refusal.code)
    key = idempotency_key(kind, provider, model, body)
    prior = await state.store.ai.by_key(tenant.id, key)
    if prior is not None and prior.status != "failed":
        return prior, False
    try:
        async with state.store.transaction() as tx:
            await state.store.ai.lock_tenant(tx, tenant.id)  # budgets hold under concurrency
            prior = await state.store.ai.by_key(tenant.id, key, tx)  # a twin may have committed meanwhile
            if prior is not None and prior.status != "failed":
                return prior, False
            await _check_budget(state, tx, tenant, kind, estimate)
            if prior is not None:  # a failed one: run it again (it was not charged)
                job_id = await enqueue(tx, JOB_KINDS[kind], tenant.id, {"generation_id": prior.id})
                await state.store.ai.update(
                    prior.id,
                    tx,
                    status="queued",
                    progress=0.0,
                    units=estimate,
                    job_id=job_id,
                    error=None,
                    error_code=None,
                    user_id=user_id,
                    created_at=time.time(),
                )
                generation = await state.store.ai.get(prior.id, tx)
                assert generation is not None
                return generation, True
            generation_id = new_id("gen")
            job_id = await enqueue(tx, JOB_KINDS[kind], tenant.id, {"generation_id": generation_id})
            generation = await state.store.ai.insert(
                tx,
                id=generation_id,
                tenant_id=tenant.id,
                user_id=user_id,
                kind=kind,
                idem_key=key,
                provider=provider,
                model=model,
                request=body,
                status="queued",
                units=estimate,
                job_id=job_id,
                asset_id=body.get("assetId"),
            )
            return generation, True
    except IntegrityError:  # the same request, committed a moment ago by another request
        twin = await state.store.ai.by_key(tenant.id, key)
        if twin is None:
            raise
        return twin, False


async def _check_budget(state: OriginState, tx: Conn, tenant: Tenant, kind: Kind, estimate: float) -> None:
    unit = UNITS[kind]
    budget = (await budgets(state.store, state.settings, tenant.id))[unit]
    if not budget:
        return
    used = (await usage(state.store, tenant.id, tx))[unit]
    if used >= budget or used + estimate > budget:  # a request of unknown size still needs budget left
        raise HTTPError(
            402,
            f"The tenant's {unit.replace('_', ' ')} budget for this month is spent "
            f"({used:g} of {budget:g} used; this request needs {estimate:.3g})",
            "ai.refused.budget",
        )


def generation_dict(generation: Generation) -> dict[str, Any]:
    """A generation job as the API answers it and its webhook carries it."""
    failed = generation.status == "failed"
    return {
        "id": generation.id,
        "kind": generation.kind,
        "status": generation.status,
        "progress": generation.progress,
        "provider": generation.provider,
        "model": generation.model or None,
        "request": generation.request,
        "assetId": generation.asset_id,
        "captionId": generation.caption_id,
        "charged": {"unit": UNITS[generation.kind], "amount": 0.0 if failed else generation.units},
        "result": generation.result,
        "error": {"code": generation.error_code, "message": generation.error} if failed else None,
        "createdAt": iso_time(generation.created_at),
        "updatedAt": iso_time(generation.updated_at),
    }


def generation_event(generation: Generation) -> Event:
    """The ``ai`` webhook: sent when a generation turns ``ready`` or ``failed``."""
    return {"eventType": "ai", "data": generation_dict(generation)}


async def tenant_generation(state: OriginState, tenant: Tenant, generation_id: str) -> Generation:
    generation = await state.store.ai.get(generation_id)
    if generation is None or generation.tenant_id != tenant.id:
        raise HTTPError(404, f"No generation job with id {generation_id!r}", "ai.job.not_found")
    return generation
