"""The audio library: its import from the server's JSON list, its files, categories and moods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from mediaedge.errors import HTTPError
from origin.api.editor import schemas as s
from origin.api.editor.common import DEFAULT_COUNT, MAX_COUNT, caller, int_param
from origin.api.editor.entries import media_entry
from origin.editor import audiolib
from origin.editor.media import get_asset
from origin.http import JSON
from origin.openapi import describe
from origin.state import get_state


@describe(responses={200: s.EditorEmpty}, errors=(500,))
async def start_import(request: Request) -> JSON:
    """Import the audio library from the server's JSON list (on a worker)."""
    who = await caller(request)
    await audiolib.start_import(get_state(request), who.tenant)
    return JSON({})


@describe(responses={200: s.EditorLibraryImport})
async def import_status(request: Request) -> JSON:
    """The audio library import's progress (``none`` before any)."""
    who = await caller(request)
    found = await audiolib.import_state(get_state(request), who.tenant)
    if found is None:
        return JSON({"processedCount": 0, "totalCount": 0, "error": None, "status": "none"})
    body = {"processedCount": found.processed, "totalCount": found.total, "error": found.error, "status": found.status}
    return JSON(body)


@describe(
    query={
        **s.PAGE_QUERY,
        **s.LIBRARY_QUERY,
        "category_id": {"type": "string"},
        "mood_id": {"type": "string"},
        "sort_field": {"type": "string", "enum": ["name", "createTime"], "default": "name"},
        **s.ORDER_QUERY,
    },
    responses={200: s.EditorAudioPage},
)
async def files(request: Request) -> JSON:
    """The audio library's files of a type: category, mood and search filters, paging."""
    state = get_state(request)
    who = await caller(request)
    q = request.query_params
    sort = q.get("sort_field") or "name"
    if sort not in ("name", "createTime"):
        raise HTTPError(400, "sort_field must be name or createTime", "editor.param.invalid")
    order = (q.get("sort_order") or "asc").lower()
    if order not in ("asc", "desc"):
        raise HTTPError(400, "sort_order must be asc or desc", "editor.param.invalid")
    found, total = await audiolib.listing(
        state,
        who.tenant,
        audiolib.check_type(q.get("type")),
        category_id=q.get("category_id") or None,
        mood_id=q.get("mood_id") or None,
        search=q.get("search") or None,
        sort=sort,
        descending=order == "desc",
        limit=int_param(request, "count", DEFAULT_COUNT, low=1, high=MAX_COUNT),
        offset=int_param(request, "start_number", 0),
    )
    return JSON({"total_count": total, "entries": [await media_entry(state, asset) for asset in found]})


@describe(responses={200: s.EditorMediaEntry})
async def one_file(request: Request) -> JSON:
    """One audio library file."""
    state = get_state(request)
    who = await caller(request)
    asset = await get_asset(state, who.tenant, request.path_params["id"])
    if asset.source != "audiolib":
        raise HTTPError(404, "Not an audio library file", "not_found")
    return JSON(await media_entry(state, asset))


def _groups(kind: str) -> Callable[[Request], Awaitable[JSON]]:
    @describe(
        summary=f"The audio library's {kind} groups", query=s.LIBRARY_QUERY, responses={200: s.EditorLibraryGroups}
    )
    async def endpoint(request: Request) -> JSON:
        who = await caller(request)
        type_ = audiolib.check_type(request.query_params.get("type"))
        found = await audiolib.groups(get_state(request), who.tenant, kind, type_)
        return JSON({"entries": [{"id": g.id, "name": g.name, "entriesCount": g.count} for g in found]})

    return endpoint


routes: list[BaseRoute] = [
    Route("/api/import/audiolib_json", start_import, methods=["POST"]),
    Route("/api/import/audiolib_json", import_status, methods=["GET"]),
    Route("/api/audiolib_files", files, methods=["GET"]),
    Route("/api/audiolib_files/categories", _groups("category"), methods=["GET"]),
    Route("/api/audiolib_files/moods", _groups("mood"), methods=["GET"]),
    Route("/api/audiolib_files/{id}", one_file, methods=["GET"]),
]
