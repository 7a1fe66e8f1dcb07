"""The request and response bodies of the video objects API as pydantic models: what its ``describe``
declarations put in the OpenAPI document, mirroring :mod:`origin.api.videos.shape` (checked against a
running origin by tests/origin/test_openapi.py). Answers are ``{"status": "success", "data": ...}``
or ``{"status": "success", "message": ...}``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from origin.catalogue.status import vocabulary
from origin.openapi import Answer, one_of
from origin.players import BUTTONS, LOGO_POSITIONS
from origin.videos.events import DIALECT
from origin.videos.objects import SORTS

Timestamp = str  # ISO 8601 UTC with milliseconds (origin.http.iso_time)
#: The statuses a video shows (a deleted one is not found).
STATUSES = [str(word) for word in vocabulary(DIALECT) if word != "deleted"]

#: ``?expires=&signature=``: a private video's signed link (in the URLs its object carries).
LINK_QUERY: dict[str, Any] = {"expires": {"type": "integer"}, "signature": {"type": "string"}}
COST_QUERY: dict[str, Any] = {
    "qualities": {"type": "string", "description": "Comma-separated qualities", "examples": ["360p,1080p"]},
    "duration": {"type": "number", "exclusiveMinimum": 0, "description": "Seconds"},
}
PART_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["file", "index", "hash"],
    "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "The part's bytes"},
        "index": {"type": "integer", "minimum": 0},
        "hash": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$", "description": "The part's MD5"},
    },
}
CONTENT_RANGE: dict[str, Any] = {
    "Content-Range": {"type": "string", "description": "The part's bytes in the file: bytes a-b/n"}
}
THUMBNAIL_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "contentMediaType": "image/*", "description": "A PNG or JPEG"}},
}


# -- requests --------------------------------------------------------------------------------------


class VideoMetadataPair(BaseModel):
    key: str = Field(min_length=1, max_length=255)
    value: str = Field("", max_length=1024)


class VideoEncoding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codec: str | None = None
    bitrate: int | None = None
    index: int | None = None


class VideoAudioEncoding(VideoEncoding):
    channels: Literal["1", "2"] | None = None
    sample_rate: int | None = None
    language: str | None = None


class VideoQualityRequest(BaseModel):
    """One encoding configuration (docs/api-videos.md, Qualities)."""

    model_config = ConfigDict(extra="forbid")

    resolution: str | None = Field(None, examples=["720p", "audio"])
    type: Literal["hls", "dash"] = "hls"
    container_type: Literal["mpegts", "mp4", "fmp4"] | None = None
    video_config: VideoEncoding | None = None
    audio_config: VideoAudioEncoding | None = None


class VideoFieldsRequest(BaseModel):
    """The fields a create, a list filter and an update share."""

    description: str | None = Field(None, max_length=5000)
    is_public: bool | None = None
    metadata: list[VideoMetadataPair] | None = None
    tags: list[str] | str | None = Field(None, description='An array, or "a,b"')
    player_id: str | None = Field(None, description="One of the tenant's player themes")


class VideoCreateRequest(VideoFieldsRequest):
    title: str = Field(min_length=1, max_length=500)
    qualities: list[VideoQualityRequest] | None = Field(None, min_length=1, max_length=12)


class VideoUpdateRequest(VideoFieldsRequest):
    title: str | None = Field(None, min_length=1, max_length=500)


class VideoListRequest(BaseModel):
    """The list's query; a body with a ``title`` is a create (:class:`VideoCreateRequest`) instead."""

    offset: int = Field(0, ge=0)
    limit: int = Field(25, ge=1, le=100)
    sort_by: str = one_of(SORTS, default="created_at")
    order_by: Literal["asc", "desc"] = "desc"
    tags: list[str] | str | None = None
    metadata: list[VideoMetadataPair] | dict[str, str] | None = None
    status: str | None = Field(None, description=f"Comma-separated: {', '.join(STATUSES)}")
    search: str | None = None


# -- answers ---------------------------------------------------------------------------------------


class VideoQuality(Answer):
    name: str
    status: str = one_of(STATUSES)
    type: str


class VideoSubtitle(Answer):
    id: str
    language: str
    label: str
    format: str
    is_default: bool


class VideoMetadata(Answer):
    key: str
    value: Any


class VideoPlayerTheme(Answer):
    """The player theme of ``player_id`` (origin.players.public_dict)."""

    id: str
    name: str
    background_color: str
    text_color: str
    accent_color: str
    watermark: str
    controls: bool
    buttons: list[str] = Field(json_schema_extra={"items": {"enum": list(BUTTONS)}})
    autoplay: bool
    muted: bool
    loop: bool
    logo_position: str = one_of(LOGO_POSITIONS)
    logo_url: str | None
    created_at: Timestamp
    updated_at: Timestamp


class VideoAssets(Answer):
    """The asset URLs (a private video's carry a signed link)."""

    source_url: str
    thumbnail_url: str
    hls_url: str
    hls_iframe: str
    hls_player_url: str
    dash_url: str
    dash_iframe: str
    dash_player_url: str
    mp4_url: str


class Video(Answer):
    id: str
    user_id: str
    title: str
    description: str
    metadata: list[VideoMetadata] | None
    tags: list[str] | None
    qualities: list[VideoQuality]
    subtitles: list[VideoSubtitle] | None
    chapters: None
    player_theme: VideoPlayerTheme | None
    duration: float
    size: int
    is_mp4: bool
    is_public: bool
    is_panoramic: bool
    status: str = one_of(STATUSES)
    created_at: Timestamp
    updated_at: Timestamp
    assets: VideoAssets
    player_theme_id: str = Field(description="Empty without a theme")
    error: str | None


class VideoAnswer(Answer):
    status: Literal["success"]
    data: Video


class VideoList(Answer):
    videos: list[Video]
    total: int


class VideoPage(Answer):
    status: Literal["success"]
    data: VideoList


class VideoMessage(Answer):
    status: Literal["success"]
    message: str


class VideoCost(Answer):
    price: float
    is_enough: bool


class VideoCostAnswer(Answer):
    status: Literal["success"]
    data: VideoCost
