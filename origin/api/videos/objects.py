"""Create, list, get, update and delete video objects."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from origin.api.videos import schemas as s
from origin.api.videos.auth import video_tenant
from origin.api.videos.shape import message, success, video_dict
from origin.catalogue.status import Status, shown_as, vocabulary
from origin.http import JSON
from origin.openapi import describe
from origin.state import get_state
from origin.videos.delete import delete_video
from origin.videos.events import DIALECT
from origin.videos.objects import (
    SORTS,
    VideoFields,
    VideoQuery,
    create_video,
    get_video,
    list_videos,
    parse_qualities_field,
    update_video,
)

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_TAGS = 50
MAX_TAG = 100
MAX_PAIRS = 50
MAX_META_KEY = 255
MAX_META_VALUE = 1024
MAX_TITLE = 500
MAX_DESCRIPTION = 5000
INVALID = "VIDEO_FIELD_INVALID"


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the request (an empty body is an empty object)."""
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise HTTPError(400, "Body must be valid JSON", "BODY_INVALID") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "Body must be a JSON object", "BODY_INVALID")
    return body


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{name} must be a string", INVALID)
    if len(value) > limit:
        raise HTTPError(400, f"{name} must be at most {limit} characters", INVALID)
    return value


def _tags(value: Any) -> list[str] | None:
    """``["a", "b"]`` or ``"a,b"``; each tag trimmed, empty ones dropped, duplicates once."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise HTTPError(400, "tags must be an array of strings", INVALID)
    tags = list(dict.fromkeys(t.strip() for t in value if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise HTTPError(400, f"tags: at most {MAX_TAGS} tags of at most {MAX_TAG} characters", INVALID)
    return tags


def _metadata(value: Any) -> dict[str, str] | None:
    """``[{"key": k, "value": v}, …]`` (or, in a list filter, ``{"k": "v"}``)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = [{"key": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list):
        raise HTTPError(400, 'metadata must be an array of {"key", "value"} objects', INVALID)
    pairs: dict[str, str] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise HTTPError(400, f"metadata[{i}].key must be a non-empty string", INVALID)
        if not isinstance(item.get("value", ""), str):
            raise HTTPError(400, f"metadata[{i}].value must be a string", INVALID)
        key, text = item["key"], item.get("value", "")
        if len(key) > MAX_META_KEY or len(text) > MAX_META_VALUE:
            raise HTTPError(
                400, f"metadata[{i}]: keys are at most {MAX_META_KEY} characters, values {MAX_META_VALUE}", INVALID
            )
        if key in pairs:
            raise HTTPError(400, f"metadata[{i}].key {key!r} is given twice", INVALID)
        pairs[key] = text
    if len(pairs) > MAX_PAIRS:
        raise HTTPError(400, f"metadata: at most {MAX_PAIRS} pairs", INVALID)
    return pairs


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise HTTPError(400, f"{name} must be true or false", INVALID)
    return value


def _fields(body: dict[str, Any], *, qualities: bool) -> VideoFields:
    raw_qualities = body.get("qualities", body.get("qualitites"))  # the API's own docs spell it both ways
    return VideoFields(
        title=_text(body, "title", MAX_TITLE),
        description=_text(body, "description", MAX_DESCRIPTION),
        is_public=_bool(body, "is_public"),
        metadata=_metadata(body.get("metadata")),
        tags=_tags(body.get("tags")),
        qualities=parse_qualities_field(raw_qualities) if qualities and raw_qualities is not None else None,
        player_id=_text(body, "player_id", MAX_META_KEY),
    )


@describe(request=s.VideoCreateRequest, responses={201: s.VideoAnswer}, errors=(503,))
async def create(request: Request, body: dict[str, Any] | None = None) -> JSON:
    """Create a video object (its qualities, metadata, tags, player theme); then upload its parts."""
    state = get_state(request)
    tenant = await video_tenant(request)
    fields = _fields(await _body(request) if body is None else body, qualities=True)
    if not fields.title or not fields.title.strip():
        raise HTTPError(400, "title is required", "VIDEO_TITLE_REQUIRED")
    video = await create_video(state, tenant, fields)
    return success(video_dict(state, video), status_code=201)


def _int(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HTTPError(400, f"{name} must be an integer from {low} to {high}", "VIDEO_LIST_INVALID")
    return value


def _statuses(value: Any) -> list[Status] | None:
    """``"done"`` or ``"new,transcoding"``: every state the API shows as one of these words."""
    if value is None or value == "":
        return None
    words = value.split(",") if isinstance(value, str) else value
    if not isinstance(words, list):
        raise HTTPError(400, "status must be a string", "VIDEO_LIST_INVALID")
    statuses: list[Status] = []
    for word in (str(w).strip() for w in words):
        matching = [s for s in Status if shown_as(DIALECT, s) == word]
        if not matching:
            allowed = ", ".join(str(w) for w in vocabulary(DIALECT))
            raise HTTPError(400, f"status must be one of {allowed}", "VIDEO_LIST_INVALID")
        statuses += matching
    return list(dict.fromkeys(statuses))


def _query(body: dict[str, Any]) -> VideoQuery:
    sort = body.get("sort_by") or "created_at"
    if sort not in SORTS:
        raise HTTPError(400, f"sort_by must be one of {', '.join(SORTS)}", "VIDEO_LIST_INVALID")
    order = body.get("order_by", body.get("order_By")) or "desc"
    if not isinstance(order, str) or order.lower() not in ("asc", "desc"):
        raise HTTPError(400, "order_by must be asc or desc", "VIDEO_LIST_INVALID")
    search = body.get("search")
    if search is not None and not isinstance(search, str):
        raise HTTPError(400, "search must be a string", "VIDEO_LIST_INVALID")
    return VideoQuery(
        offset=_int(body, "offset", 0, 0, 2**31),
        limit=_int(body, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        sort=sort,
        descending=order.lower() == "desc",
        tags=_tags(body.get("tags")),
        metadata=_metadata(body.get("metadata")),
        statuses=_statuses(body.get("status")),
        search=search.strip() if search else None,
    )


@describe(
    request=s.VideoListRequest,
    request_required=False,
    responses={200: s.VideoPage, 201: s.VideoAnswer},
    errors=(503,),
)
async def list_(request: Request) -> JSON:
    """List, search and sort the tenant's videos.

    A body with a `title` creates a video instead (201, as `POST /api/videos/create`: the API's own
    create example posts here)."""
    state = get_state(request)
    tenant = await video_tenant(request)
    body = await _body(request)
    if "title" in body:
        return await create(request, body)
    videos, total = await list_videos(state, tenant, _query(body))
    return success({"videos": [video_dict(state, v) for v in videos], "total": total})


@describe(responses={200: s.VideoAnswer})
async def get(request: Request) -> JSON:
    """One video object: its qualities' statuses, subtitles, player theme and asset URLs."""
    state = get_state(request)
    tenant = await video_tenant(request)
    return success(video_dict(state, await get_video(state, tenant, request.path_params["video_id"])))


@describe(request=s.VideoUpdateRequest, request_required=False, responses={200: s.VideoMessage}, errors=(409,))
async def update(request: Request) -> JSON:
    """Change a video's title, description, visibility, metadata, tags or player theme."""
    state = get_state(request)
    tenant = await video_tenant(request)
    fields = _fields(await _body(request), qualities=False)
    await update_video(state, tenant, request.path_params["video_id"], fields)
    return message("Update video info successfully.")


@describe(responses={200: s.VideoMessage}, errors=(503,))
async def delete(request: Request) -> JSON:
    """Delete a video: its stream, renditions, thumbnail and source."""
    state = get_state(request)
    tenant = await video_tenant(request)
    await delete_video(state, tenant, request.path_params["video_id"])
    return message("Delete video successfully.")


routes = [
    Route("/api/videos/create", create, methods=["POST"]),
    Route("/api/videos", list_, methods=["POST"]),
    Route("/api/videos/{video_id}", get, methods=["GET"]),
    Route("/api/videos/{video_id}", update, methods=["PATCH"]),
    Route("/api/videos/{video_id}", delete, methods=["DELETE"]),
]
