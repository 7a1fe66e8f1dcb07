"""Video objects: create, get, list, update and delete the tenant's video assets.

A video made here starts ``queued`` with no media; its ``qualities`` (seed-shaped, validated by
:func:`mediaedge.qualities.parse_qualities`) are kept in the asset's ``extra`` until the upload
completes and the stream is made. A video of another API (an upload through ``/upload`` that was
streamed) shows the qualities its stream was made with.

Per-quality status: the encoder makes each rendition of a ladder on its own, smallest first, and says
which renditions make each quality (``outputs.qualities`` of the stream); a quality is ``done`` once its
renditions are (and plays at once: the manifests list it), ``fail`` when one of them failed for good,
``transcoding`` while the video is and before. Until the encoder has planned the ladder every quality
shows the video's status. The video is ``transcoding`` until every quality has ended, then ``done``
(at least one quality done) or ``fail``. Qualities above the source's resolution are skipped by the
encoder and, once the source is probed, no longer listed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from mediaedge.errors import HTTPError
from mediaedge.qualities import QualitiesConfig, QualitiesError, default_qualities, parse_qualities
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Caption, PlayerTheme, Tenant
from origin.store.streams import StreamRecord
from origin.videos.events import DIALECT

KINDS = ["video"]
#: Assets this API shows and deletes as videos.
MEDIA_KINDS = ("video", "audio")
#: Sort orders of the list, by the API's names.
SORTS = ("created_at", "updated_at", "title", "size")


@functools.cache
def default_ladder() -> QualitiesConfig:
    """The ladder of a video created without ``qualities``: the default one, as HLS over fMP4 (CMAF, so
    the same segments also play through the DASH manifest). Made once: it is immutable, and a listing
    shows it for every video without a ladder of its own."""
    return QualitiesConfig(tuple(replace(q, type="hls", container_type="mp4") for q in default_qualities().qualities))


@dataclass(frozen=True)
class VideoFields:
    """What a create or update request sets (``None``: not given)."""

    title: str | None = None
    description: str | None = None
    is_public: bool | None = None
    metadata: dict[str, str] | None = None
    tags: list[str] | None = None
    qualities: QualitiesConfig | None = None
    player_id: str | None = None


@dataclass(frozen=True)
class QualityState:
    name: str
    type: str
    status: Status


@dataclass(frozen=True)
class Video:
    """A video asset with what its views show beside it."""

    asset: Asset
    qualities: tuple[QualityState, ...]
    captions: tuple[Caption, ...]
    stream: StreamRecord | None
    #: The player theme of ``player_id`` (None without one, or when the theme was deleted since).
    theme: PlayerTheme | None = None

    @property
    def status(self) -> Status:
        return Status(self.asset.status)


@dataclass(frozen=True)
class VideoQuery:
    """A list request: paging, order, and filters (all optional)."""

    offset: int = 0
    limit: int = 25
    sort: str = "created_at"
    descending: bool = True
    tags: list[str] | None = None
    metadata: dict[str, str] | None = None
    statuses: list[Status] | None = None
    search: str | None = None


def player_id_of(asset: Asset) -> str:
    """The ``player_id`` a video was given (its theme may have been deleted since)."""
    return str(asset.extra.get("player_id") or "")


def not_found() -> HTTPError:
    return HTTPError(404, "Video not found", "VIDEO_NOT_FOUND")


async def _check_player(state: OriginState, tenant: Tenant, player_id: str | None) -> None:
    """A ``player_id`` must name one of the tenant's player themes (``""`` clears it)."""
    if player_id and await state.store.player_themes.get(tenant.id, player_id) is None:
        raise HTTPError(400, f"player_id {player_id!r} is not one of your players", "PLAYER_ID_INVALID")


async def create_video(state: OriginState, tenant: Tenant, fields: VideoFields) -> Video:
    """A new ``queued`` video without media (``title`` is required)."""
    if not fields.title:
        raise HTTPError(400, "title is required", "VIDEO_TITLE_REQUIRED")
    await _check_player(state, tenant, fields.player_id)
    extra: dict[str, Any] = {"qualities": (fields.qualities or default_ladder()).to_list()}
    if fields.player_id:
        extra["player_id"] = fields.player_id
    async with state.store.transaction() as tx:
        asset = await state.store.assets.create(
            tenant.id,
            kind="video",
            title=fields.title,
            asset_id=new_asset_id(),
            conn=tx,
            description=fields.description or "",
            tags=fields.tags or [],
            metadata=fields.metadata or {},
            is_public=True if fields.is_public is None else fields.is_public,
            status=Status.QUEUED,
            source="upload",
            dialect=DIALECT,
            extra=extra,
        )
    return await view(state, asset)


async def tenant_asset(state: OriginState, tenant: Tenant, video_id: str) -> Asset:
    """The tenant's video (or audio) asset, any status; 404 otherwise."""
    asset = await state.store.assets.get(tenant.id, video_id)
    if asset is None or asset.kind not in MEDIA_KINDS:
        raise not_found()
    return asset


async def get_video(state: OriginState, tenant: Tenant, video_id: str) -> Video:
    return await view(state, await tenant_asset(state, tenant, video_id))


async def list_videos(state: OriginState, tenant: Tenant, query: VideoQuery) -> tuple[list[Video], int]:
    """One page of the tenant's videos and the total matching. Deleted videos are listed only when
    the ``deleted`` status is asked for."""
    if query.sort not in SORTS:
        raise HTTPError(400, f"sort_by must be one of {', '.join(SORTS)}", "VIDEO_LIST_INVALID")
    assets, total = await state.store.assets.page(
        tenant.id,
        kinds=KINDS,
        statuses=query.statuses or None,
        search=query.search or None,
        sort=query.sort,
        descending=query.descending,
        limit=query.limit,
        offset=query.offset,
        include_deleted=Status.DELETED in (query.statuses or []),
        tags=query.tags or None,
        metadata=query.metadata or None,
    )
    return await views(state, assets), total


async def update_video(state: OriginState, tenant: Tenant, video_id: str, fields: VideoFields) -> Video:
    """Change the given fields. ``is_public`` applies to the source file and the stream at once, and
    every edge forgets what it cached of them."""
    asset = await tenant_asset(state, tenant, video_id)
    if asset.status == Status.DELETED:
        raise HTTPError(409, "The video is deleted", "VIDEO_DELETED")
    changes: dict[str, Any] = {}
    for name in ("title", "description", "metadata", "tags", "is_public"):
        value = getattr(fields, name)
        if value is not None:
            changes[name] = value
    if fields.title == "":
        raise HTTPError(400, "title must not be empty", "VIDEO_TITLE_REQUIRED")
    await _check_player(state, tenant, fields.player_id)
    if fields.player_id is not None:
        changes["extra"] = {**asset.extra, "player_id": fields.player_id}
    access_changed = fields.is_public is not None and fields.is_public != asset.is_public
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    async with state.store.transaction() as tx:
        updated = await state.store.assets.update(tenant.id, asset.id, conn=tx, **changes) if changes else asset
        if updated is None:
            raise not_found()
        if access_changed:
            signed = not fields.is_public
            if asset.file_id:
                await state.store.files.set_require_signed(asset.file_id, signed, conn=tx)
            if stream is not None:
                await state.store.streams.update(tx, stream.id, require_signed=signed)
    if access_changed:
        file = await state.store.files.get(asset.file_id) if asset.file_id else None
        await purge_edges(
            state, [file.key] if file else [], [stream.output_prefix] if stream and stream.output_prefix else []
        )
    return await view(state, updated)


def qualities_of(asset: Asset, stream: StreamRecord | None) -> QualitiesConfig:
    """The ladder a video is (or will be) made with."""
    raw = stream.qualities if stream is not None and stream.qualities else asset.extra.get("qualities")
    try:
        config = parse_qualities(raw) if raw else default_ladder()
    except QualitiesError:  # a ladder stored by an older release: show the default one
        config = default_ladder()
    if asset.width and asset.height:
        config = config.fitting(min(asset.width, asset.height))
    return config


def _quality_status(status: Status) -> Status:
    return Status.PROCESSING if status == Status.STORING else status


#: A rendition's status in a stream's ``outputs`` → the catalogue's.
_RENDITION_STATUS = {"ready": Status.READY, "failed": Status.FAILED}


def quality_states(asset: Asset, stream: StreamRecord | None) -> tuple[QualityState, ...]:
    """The status of each quality of a video: its renditions' once the encoder planned them."""
    status = _quality_status(Status(asset.status))
    planned = stream.outputs.get("qualities") if stream is not None else None
    if not isinstance(planned, list) or status in (Status.DELETED, Status.QUEUED):
        return tuple(QualityState(q.resolution, q.type, status) for q in qualities_of(asset, stream).qualities)
    assert stream is not None
    made = {str(r.get("name")): r.get("status") for r in stream.outputs.get("renditions") or [] if isinstance(r, dict)}
    states = []
    for quality in planned:
        ended = {_RENDITION_STATUS.get(str(made.get(name)), status) for name in quality.get("renditions") or []}
        if Status.FAILED in ended:
            state = Status.FAILED
        elif ended == {Status.READY}:
            state = Status.READY
        else:
            state = status if status not in (Status.READY, Status.FAILED) else Status.FAILED
        states.append(QualityState(str(quality.get("name")), str(quality.get("type")), state))
    return tuple(states)


async def view(state: OriginState, asset: Asset) -> Video:
    """The :class:`Video` of an asset: its stream, the states of its qualities, its captions."""
    return (await views(state, [asset]))[0]


async def views(state: OriginState, assets: list[Asset]) -> list[Video]:
    """The :class:`Video` of each asset, with three queries for all of them (streams, captions, the
    player themes of each tenant among them)."""
    streams = await state.store.streams.get_many([a.stream_id for a in assets if a.stream_id])
    captions = await state.store.captions.for_assets([a.id for a in assets])
    themes: dict[tuple[str, str], PlayerTheme] = {}
    for tenant_id in {a.tenant_id for a in assets}:
        players = [player_id_of(a) for a in assets if a.tenant_id == tenant_id and player_id_of(a)]
        for found_theme in (await state.store.player_themes.get_many(tenant_id, players)).values():
            themes[tenant_id, found_theme.id] = found_theme
    found = []
    for asset in assets:
        stream = streams.get(asset.stream_id) if asset.stream_id else None
        theme = themes.get((asset.tenant_id, player_id_of(asset)))
        found.append(Video(asset, quality_states(asset, stream), tuple(captions[asset.id]), stream, theme))
    return found


def parse_qualities_field(raw: Any) -> QualitiesConfig:
    """The request's ``qualities``: 400 naming the quality index and field when a rule is broken."""
    try:
        return parse_qualities(raw)
    except QualitiesError as exc:
        raise HTTPError(400, str(exc), "QUALITIES_INVALID") from None
