"""Media files (``/api/mediafiles``), the custom URLs over the catalogue (``/api/dev/...``) and
thumbnails (``/api/clip_thumbnail[s]``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.api.editor.common import DEFAULT_COUNT, MAX_COUNT, caller, flag, int_param, media_error
from origin.api.editor.entries import dev_entry, editor_status, error_object, folder_entry, media_entry
from origin.editor import frames, media, projects, thumbnails
from origin.editor.sessions import Caller
from origin.http import JSON
from origin.openapi import describe
from origin.state import get_state


def _list_query(request: Request, filters: tuple[str, ...]) -> dict[str, Any]:
    q = request.query_params
    wanted = [f.strip() for f in (q.get("filter") or "").split(",") if f.strip()]
    if unknown := [f for f in wanted if f not in filters]:
        raise HTTPError(
            400, f"filter: unknown type {unknown[0]!r} (one of {', '.join(filters)})", "editor.param.invalid"
        )
    sort = q.get("sort_field") or "createTime"
    if sort not in media.SORT_COLUMNS:
        raise HTTPError(400, "sort_field must be name, createTime, size or duration", "editor.param.invalid")
    order = (q.get("sort_order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise HTTPError(400, "sort_order must be asc or desc", "editor.param.invalid")
    return {
        "filters": wanted,
        "search": q.get("search") or None,
        "sort": sort,
        "descending": order == "desc",
        "start": int_param(request, "start_number", 0),
        "count": int_param(request, "count", DEFAULT_COUNT, low=1, high=MAX_COUNT),
    }


@describe(query=s.MEDIA_QUERY, responses={200: s.EditorMediaPage})
async def list_media(request: Request) -> JSON:
    """A folder's entries: its folders, then its media files (filters, sort, paging)."""
    state = get_state(request)
    who = await caller(request)
    folder = await media.folder_id(state, who.tenant, request.query_params.get("folder"))
    page = await media.listing(state, who.tenant, folder=folder, **_list_query(request, media.FILTERS))
    await thumbnails.ensure_prepared(state, page.assets)
    entries = [folder_entry(f) for f in page.folders] + [await media_entry(state, a) for a in page.assets]
    return JSON({"total_count": page.total, "entries": entries})


@describe(responses={200: s.EditorMediaEntry})
async def get_media(request: Request) -> JSON:
    """One media file."""
    state = get_state(request)
    who = await caller(request)
    asset = await media.get_asset(state, who.tenant, request.path_params["id"])
    await thumbnails.ensure_prepared(state, [asset])
    return JSON(await media_entry(state, asset))


@describe(query=s.ID_QUERY, required_query=("id",), responses={200: s.EditorMediaStatus})
async def media_status(request: Request) -> JSON:
    """A media file's stage, progress and error."""
    state = get_state(request)
    who = await caller(request)
    asset_id = request.query_params.get("id")
    if not asset_id:
        raise HTTPError(400, "id is required", "editor.param.invalid")
    asset = await media.get_asset(state, who.tenant, asset_id)
    status = editor_status(asset)
    progress = 100 if status == "ready" else round(asset.progress or 0)
    return JSON({"status": status, "progress": progress, "error": error_object(asset)})


@describe(
    query=s.FORCE_QUERY,
    responses={200: s.EditorErrorAnswer, 404: s.EditorErrorAnswer, 409: s.EditorErrorAnswer},
)
async def delete_media(request: Request) -> JSON:
    """Delete a media file (used in projects: 409 unless ``force``); 404 and 409 answer the editor's error object."""
    state = get_state(request)
    who = await caller(request)
    try:
        asset = await media.get_asset(state, who.tenant, request.path_params["id"])
    except HTTPError:
        return JSON({"error": media_error("not_found", "Media file not found")}, 404)
    if not flag(request, "force") and (using := await projects.used_in_projects(state, who.tenant.id, asset.id)):
        message = f"The media file is used in projects: {', '.join(using)} (delete with force=1)"
        return JSON({"error": media_error("used_in_projects", message)}, 409)
    await media.delete_asset(state, who.tenant, asset)
    return JSON({"error": None})


# -- the custom URLs, served over the catalogue ----------------------------------------------------


@describe(responses={200: s.EditorDevEntry})
async def dev_file(request: Request) -> JSON:
    """fetchFileUrl over the catalogue: one media file."""
    state = get_state(request)
    who = await caller(request)
    asset = await media.get_asset(state, who.tenant, request.path_params["id"])
    await thumbnails.ensure_prepared(state, [asset])
    return JSON(await dev_entry(state, asset))


@describe(query=s.DEV_MEDIA_QUERY, responses={200: s.EditorDevMediaPage})
async def dev_media_tab(request: Request) -> JSON:
    """mediaTabContentUrl over the catalogue: the media files of every folder."""
    state = get_state(request)
    who = await caller(request)
    page = await media.listing(state, who.tenant, folder=None, all_folders=True, **_list_query(request, media.KINDS))
    await thumbnails.ensure_prepared(state, page.assets)
    return JSON({"total_count": page.total, "entries": [await dev_entry(state, a) for a in page.assets]})


async def _asset_at(request: Request) -> tuple[Caller, Any]:
    state = get_state(request)
    who = await caller(request)
    asset_id = request.query_params.get("id")
    if not asset_id:
        raise HTTPError(400, "id is required", "editor.param.invalid")
    return who, await media.get_asset(state, who.tenant, asset_id)


@describe(
    query={**s.ID_QUERY, "time": {"type": "integer", "minimum": 0, "default": 0, "description": "100 ns units"}},
    required_query=("id",),
    responses={200: s.EditorImage},
    errors=(409, 422),
)
async def one_thumbnail(request: Request) -> JSON:
    """``fetchThumbnailUrl`` and ``/api/clip_thumbnail``: ``{data}`` at ``time`` (100 ns units)."""
    _, asset = await _asset_at(request)
    png = await thumbnails.frame(get_state(request), asset, int_param(request, "time", 0))
    return JSON({"data": frames.b64(png)})


@describe(
    query={
        **s.ID_QUERY,
        "start_time": {"type": "integer", "minimum": 0, "default": 0},
        "step": {"type": "integer", "minimum": 1, "description": "100 ns units (default 1 s)"},
        "count": {"type": "integer", "minimum": 1, "maximum": thumbnails.MAX_COUNT, "default": 1},
        "cached": {"type": "string", "enum": ["0", "1", "true", "false"]},
    },
    required_query=("id",),
    responses={200: s.EditorThumbnails},
    errors=(409, 422),
)
async def clip_thumbnails(request: Request) -> JSON:
    """A timeline strip: ``count`` thumbnails from ``start_time``, ``step`` apart."""
    _, asset = await _asset_at(request)
    strip = await thumbnails.timeline(
        get_state(request),
        asset,
        int_param(request, "start_time", 0),
        int_param(request, "step", frames.TICKS, low=1),
        int_param(request, "count", 1, low=1, high=thumbnails.MAX_COUNT),
        flag(request, "cached", True),
    )
    return JSON({"status": "", "thumbnails": [{"time": at, "data": frames.b64(png)} for at, png in strip]})


routes: list[BaseRoute] = [
    Route("/api/mediafiles", list_media, methods=["GET"]),
    Route("/api/mediafiles/{id}", get_media, methods=["GET"]),
    Route("/api/mediafiles/{id}", delete_media, methods=["DELETE"]),
    Route("/api/mediafile/status", media_status, methods=["GET"]),
    Route("/api/dev/files/{id}", dev_file, methods=["GET"]),
    Route("/api/dev/media", dev_media_tab, methods=["GET"]),
    Route("/api/dev/thumbnail", one_thumbnail, methods=["GET"]),
    Route("/api/clip_thumbnail", one_thumbnail, methods=["GET"]),
    Route("/api/clip_thumbnails", clip_thumbnails, methods=["GET"]),
]
