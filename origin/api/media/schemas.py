"""The request and response bodies of the media API as pydantic models: what its ``describe``
declarations put in the OpenAPI document, mirroring :mod:`origin.api.media.shapes` and the handlers'
answers (checked against a running origin by tests/origin/test_openapi.py). Field names are the wire
names; every answer is in the ``{"data": ...}`` envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from origin.ai.service import UNITS
from origin.catalogue.status import vocabulary
from origin.media.listing import DEFAULT_PAGE, MAX_PAGE
from origin.media.scan import KINDS
from origin.openapi import Answer, F, describe, one_of

Timestamp = str  # ISO 8601 UTC with milliseconds (origin.http.iso_time)
STATUSES = vocabulary("media")
#: The audio formats generate-audio makes.
FORMATS = ("mp3", "ogg", "wav", "m4a")

#: ``X-User-Id``: the end user a call is made for (rate limits, upload keys, stream tokens).
USER_HEADER: dict[str, Any] = {
    "X-User-Id": {"type": "string", "pattern": "^[A-Za-z0-9._@:+-]{1,128}$", "description": "The end user"}
}
#: ``?lang=``: a BCP 47 language tag.
LANG_QUERY: dict[str, Any] = {"lang": {"type": "string", "description": "A BCP 47 language tag"}}
#: ``?source=``: which of a language's tracks (manual or generated); both without it.
SOURCE_QUERY: dict[str, Any] = {"source": {"type": "string", "enum": ["manual", "generated"]}}
LIST_QUERY: dict[str, Any] = {
    "filter[kind]": {"type": "string", "description": f"Comma-separated: {', '.join(KINDS)}"},
    "filter[status]": {"type": "string", "description": f"Comma-separated: {', '.join(map(str, STATUSES))}"},
    "filter[createdFrom]": {"type": "string", "format": "date-time", "description": "Inclusive"},
    "filter[createdTo]": {"type": "string", "format": "date-time", "description": "Exclusive"},
    "page[size]": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
    "page[cursor]": {"type": "string", "description": "links.next of the previous page carries it"},
}
#: The origin's own upload form (a local-disk bucket): the fields upload-url gave, then the file.
DIRECT_UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["key", "Content-Type", "policy", "file"],
    "properties": {
        "key": {"type": "string"},
        "Content-Type": {"type": "string"},
        "policy": {"type": "string", "description": "Signed by the origin"},
        "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "Last"},
    },
}


def media_operation(**declared: Any) -> Callable[[F], F]:
    """:func:`origin.openapi.describe` with the dialect's ``X-User-Id`` header."""
    return describe(headers=USER_HEADER, **declared)


# -- requests --------------------------------------------------------------------------------------


class MediaUploadRequest(BaseModel):
    sha256: str = Field(pattern="^[0-9a-fA-F]{64}$", description="The file's SHA-256 (idempotency key)")
    sizeBytes: int = Field(gt=0)
    mime: str = Field(examples=["video/mp4"])
    filename: str
    kind: Literal["video", "audio", "image", "other"] | None = Field(None, description="Default: from mime")


class MediaFinalizeRequest(BaseModel):
    etag: str | None = Field(None, description="The ETag the upload answered; checked when given")


class MediaCaptionRequest(BaseModel):
    language: str = Field(description="A BCP 47 tag, stored in its standard form")
    content: str = Field(description="The WebVTT or SRT text")
    approved: bool = True
    label: str | None = Field(None, description="Default: the language's name")


class MediaCaptionApproval(BaseModel):
    approved: bool


class MediaCaptionGeneration(BaseModel):
    assetId: str
    language: str
    reviewRequired: bool = False


class MediaSpeechGeneration(BaseModel):
    text: str
    voice: str | None = Field(None, description="One of GET /api/v1/media/ai/voices (default: the provider's)")
    language: str
    format: str = one_of(FORMATS, default="mp3")


class MediaImageGeneration(BaseModel):
    prompt: str
    size: str = Field(examples=["1024x1024"])
    style: str | None = None
    aspectRatio: str | None = None


# -- answers ---------------------------------------------------------------------------------------


class MediaCaption(Answer):
    id: str
    language: str
    label: str
    format: str
    approved: bool
    source: str = Field(description="manual or generated")
    url: str = Field(description="The signed edge URL of its WebVTT file (or this API's captions URL)")
    createdAt: Timestamp


class MediaVariant(Answer):
    """An image rendition, or a rendition of the asset's stream (with ``averageBitrate`` and ``codecs``)."""

    id: str
    kind: str
    name: str
    status: str
    mime: str | None
    width: int | None
    height: int | None
    bitrate: int | None
    averageBitrate: int | None = None
    codecs: str | None = None
    sizeBytes: int | None
    url: str | None


class MediaTranscriptLink(Answer):
    language: str
    url: str


class MediaStreamLinks(Answer):
    hls: str
    dash: str


class MediaAsset(Answer):
    id: str
    kind: str = one_of(KINDS)
    source: str
    status: str = one_of(STATUSES)
    title: str
    mime: str
    width: int | None
    height: int | None
    durationSeconds: float | None
    sha256: str | None
    sizeBytes: int | None
    error: str | None
    variants: list[MediaVariant]
    captions: list[MediaCaption]
    transcript: MediaTranscriptLink | None
    stream: MediaStreamLinks | None = Field(description="Set once the asset is ready and has a stream")
    createdAt: Timestamp
    updatedAt: Timestamp


class MediaAssetAnswer(Answer):
    data: MediaAsset


class MediaLinks(Answer):
    self: str
    next: str | None


class MediaPageMeta(Answer):
    pageSize: int


class MediaAssetPage(Answer):
    data: list[MediaAsset]
    links: MediaLinks
    meta: MediaPageMeta


class MediaVariants(Answer):
    data: list[MediaVariant]


class MediaCaptionAnswer(Answer):
    data: MediaCaption


class MediaCaptions(Answer):
    data: list[MediaCaption]


class MediaCue(Answer):
    start: float
    end: float
    text: str


class MediaTranscript(Answer):
    language: str
    source: str
    text: str
    cues: list[MediaCue]


class MediaTranscriptAnswer(Answer):
    data: MediaTranscript


class MediaUploadTicket(Answer):
    assetId: str
    uploadUrl: str | None = Field(description="null: the bytes are in already, do not upload again")
    uploadFields: dict[str, str]
    expiresAt: Timestamp | None
    status: str = one_of(STATUSES)


class MediaUploadTicketAnswer(Answer):
    data: MediaUploadTicket


class MediaCharge(Answer):
    unit: str = one_of(UNITS.values())
    amount: float


class MediaJobError(Answer):
    code: str | None
    message: str | None


class MediaGeneration(Answer):
    id: str
    kind: str = one_of(UNITS)
    status: Literal["queued", "processing", "ready", "failed"]
    progress: float
    provider: str
    model: str | None
    request: dict[str, Any]
    assetId: str | None
    captionId: str | None
    charged: MediaCharge
    result: dict[str, Any] | None
    error: MediaJobError | None = Field(description="Set when the job failed")
    createdAt: Timestamp
    updatedAt: Timestamp


class MediaGenerationAnswer(Answer):
    data: MediaGeneration


class MediaVoice(Answer):
    id: str
    name: str
    language: str
    gender: str | None
    provider: str


class MediaVoices(Answer):
    data: list[MediaVoice]


class MediaUsagePeriod(Answer):
    from_: Timestamp = Field(alias="from")


class MediaUnitUsage(Answer):
    used: float
    budget: float | None = Field(description="null: unlimited")


class MediaUsage(Answer):
    period: MediaUsagePeriod
    units: dict[str, MediaUnitUsage] = Field(description=f"Per unit: {', '.join(UNITS.values())}")


class MediaUsageAnswer(Answer):
    data: MediaUsage
