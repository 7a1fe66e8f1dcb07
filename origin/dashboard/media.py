"""The Media pages: the tenant's catalogue (every asset, whichever API made it) and one asset's page.

An asset's page plays it in the embed player (``/embed`` with a dashboard *preview* token: framed by
the origin's own pages only, so it plays whatever the tenant's whitelist says), lists its renditions
and streams with their status and progress (polled while unfinished), its captions, and offers the
signed URL generator (expiry, exact or prefix scope, IP binding) and the iframe snippet.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mediaedge.errors import HTTPError
from origin.api.aauti.tokens import issue_url_token
from origin.catalogue.status import Status
from origin.dashboard.render import render
from origin.dashboard.session import Login
from origin.dashboard.views import _form, _text, page
from origin.embedding import mint_embed_token
from origin.http import JSON
from origin.state import OriginState, get_state
from origin.store import Asset, FileRecord
from origin.store.streams import StreamRecord

PAGE_SIZE = 25
KINDS = ("video", "audio", "image", "other")
STATUSES = tuple(s.value for s in Status if s is not Status.DELETED)
PREVIEW_SECONDS = 3600
STREAM_FINAL = ("ready", "failed")
RENDITION_FINAL = ("ready", "failed", "deleted")


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _offset(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@page
async def media_page(request: Request, login: Login) -> Response:
    params = request.query_params
    search = (params.get("q") or "").strip()[:200]
    kind = _choice(params.get("kind"), KINDS)
    status = _choice(params.get("status"), STATUSES)
    offset = _offset(params.get("offset"))
    assets, total = await get_state(request).store.assets.page(
        login.tenant.id,
        kinds=[kind] if kind else None,
        statuses=[Status(status)] if status else None,
        search=search or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    query = {k: v for k, v in (("q", search), ("kind", kind), ("status", status)) if v}

    def link(to: int) -> str:
        return "/dashboard/media?" + urlencode({**query, "offset": to})

    return render(
        request,
        "media.html",
        login,
        active="media",
        assets=assets,
        total=total,
        search=search,
        kind=kind,
        status=status,
        kinds=KINDS,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
        previous=link(max(0, offset - PAGE_SIZE)) if offset else None,
        next=link(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
    )


async def _asset(request: Request, login: Login) -> tuple[OriginState, Asset, FileRecord | None]:
    state = get_state(request)
    asset = await state.store.assets.get(login.tenant.id, request.path_params["asset_id"])
    if asset is None:
        raise HTTPError(404, "Media not found", "MEDIA_NOT_FOUND")
    record = await state.store.files.get(asset.file_id) if asset.file_id else None
    if record is not None and record.tenant_id != login.tenant.id:
        record = None
    return state, asset, record


async def _streams(state: OriginState, asset: Asset) -> list[StreamRecord]:
    return await state.store.streams.of_source(asset.tenant_id, asset.file_id) if asset.file_id else []


def _playable(record: FileRecord | None) -> bool:
    return record is not None and record.status == "ready" and record.mime.startswith(("video/", "audio/"))


async def _detail(request: Request, login: Login, status: int = 200, **context: Any) -> Response:
    state, asset, record = await _asset(request, login)
    renditions = await state.store.renditions.list(asset.id)
    captions = await state.store.captions.list(asset.id)
    streams = await _streams(state, asset)
    player = None
    if _playable(record):
        assert record is not None
        token = mint_embed_token(state, login.tenant, record.id, PREVIEW_SECONDS, "", preview=True)
        player = "/embed?" + urlencode({"file": record.id, "token": token, "muted": "true"})
    origin = state.settings.origin.url
    snippet = None
    if record is not None:
        embed = f"{origin}/embed?" + urlencode({"file": record.id}) + "&api_key=YOUR_API_KEY"
        snippet = (
            f'<iframe src="{embed}" width="640" height="360" frameborder="0"\n'
            '        allow="autoplay; fullscreen; encrypted-media" allowfullscreen></iframe>'
        )
    final = (
        asset.status in (Status.READY, Status.FAILED, Status.QUARANTINED, Status.DELETED)
        and all(r.status in RENDITION_FINAL for r in renditions)
        and all(s.status in STREAM_FINAL for s in streams)
    )
    return render(
        request,
        "media_detail.html",
        login,
        status,
        active="media",
        asset=asset,
        record=record,
        renditions=renditions,
        captions=captions,
        streams=streams,
        player=player,
        snippet=snippet,
        access_url=state.access_url(record) if record else None,
        live=not final,
        **context,
    )


@page
async def media_detail(request: Request, login: Login) -> Response:
    return await _detail(request, login)


@page
async def media_status(request: Request, login: Login) -> Response:
    """The asset's status and its renditions' and streams' (the page polls this while unfinished)."""
    state, asset, _ = await _asset(request, login)
    renditions = await state.store.renditions.list(asset.id)
    streams = await _streams(state, asset)
    items: list[dict[str, Any]] = [{"id": r.id, "status": r.status, "progress": None} for r in renditions]
    items += [{"id": s.id, "status": s.status, "progress": s.progress} for s in streams]
    final = all(i["status"] in (*RENDITION_FINAL, *STREAM_FINAL) for i in items) and asset.status in (
        Status.READY,
        Status.FAILED,
        Status.QUARANTINED,
        Status.DELETED,
    )
    return JSON(
        {"status": asset.status, "progress": asset.progress, "renditions": items, "final": final},
        headers={"Cache-Control": "no-store"},
    )


@page
async def signed_url(request: Request, login: Login) -> Response:
    """The signed URL generator: a token for the file (exact) or a stream's folder (prefix)."""
    state, asset, record = await _asset(request, login)
    form = _form(request)
    scope = _text(form, "scope") or "exact"
    target = None
    if scope == "prefix":
        stream = next((s for s in await _streams(state, asset) if s.status == "ready" and s.output_prefix), None)
        if stream is not None:
            target = f"{state.settings.edge.url}/{stream.id}/{stream.output_prefix}"
    elif record is not None and record.status == "ready":
        target = state.access_url(record)
    if target is None:
        what = "ready stream" if scope == "prefix" else "stored file"
        return await _detail(request, login, 400, errors=[f"This media has no {what} to sign"])
    try:
        answer = await issue_url_token(
            state,
            login.tenant,
            target,
            scope=scope,
            ip=_text(form, "ip") or None,
            expires_in=_text(form, "expires_in") or None,
        )
    except HTTPError as exc:
        return await _detail(request, login, 400, errors=[exc.message])
    return await _detail(request, login, signed=answer)
