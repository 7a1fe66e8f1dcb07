"""The request and response bodies of the upload / API / delivery routes, as pydantic models: what their
``describe`` declarations put in the OpenAPI document (``components.schemas``), checked against the
running origin's answers by tests/origin/test_openapi.py. Field names are the wire names."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Timestamp = str  # ISO 8601 UTC with milliseconds (origin.http.iso_time)
Flag = bool | Literal["true", "false"]

#: ``POST /upload/direct-upload``: a multipart form (the file part streamed to disk).
DIRECT_UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "The file"},
        "userId": {"type": "string"},
        "destination": {"type": "string", "description": "A folder under the user's prefix"},
        "bucket": {"type": "string", "description": "One of the tenant's buckets (default: its default)"},
        "requireSignedUrl": {"type": "string", "enum": ["true", "false"]},
    },
}


class UploadedFile(BaseModel):
    key: str
    url: str = Field(description="The public access URL at the edge: {EDGE}/{fileId}/{key}")
    duration: float | None
    id: str
    filename: str
    file_type: str
    file_size: int


class FromUrlRequest(BaseModel):
    url: str = Field(description="An http(s) URL the origin may fetch (SSRF-checked)")
    bucket: str | None = None
    userId: str | None = None
    destination: str | None = None
    filename: str | None = None
    requireSignedUrl: Flag | None = None
    meta: dict[str, Any] | None = None


class FromUrlQueued(BaseModel):
    jobId: str
    status: Literal["queued"]
    message: str


class UploadJob(BaseModel):
    jobId: str
    status: Literal["queued", "running", "succeeded", "failed"]
    url: str
    attempts: int
    maxAttempts: int
    result: dict[str, Any] | None
    lastError: str | None
    createdAt: Timestamp
    updatedAt: Timestamp


class FileDuration(BaseModel):
    status: Literal[200]
    duration: float | None = Field(description="Seconds; null when the file has no duration")


class DownloadLink(BaseModel):
    url: str = Field(description="Valid for 15 minutes")
    filename: str
    file_size: int


class RegisterRequest(BaseModel):
    filePath: str = Field(description="The object's key in the bucket, under the tenant's own prefix")
    bucket: str | None = None
    userId: str | None = None
    requireSignedUrl: Flag | None = None


class RegisteredFile(BaseModel):
    key: str = Field(description="The file's id (this API calls it key)")
    url: str
    filename: str
    file_type: str
    file_size: int
    duration: float | None


class FileRef(BaseModel):
    file: str = Field(description="The file's access URL (or its key)")


class Done(BaseModel):
    success: Literal[True]
    message: str


class UrlTokenRequest(BaseModel):
    url: str = Field(description="A file's access URL, or a stream folder's")
    scope: Literal["exact", "prefix"] = "exact"
    ip: str | None = Field(None, description="Bind the token to this client address")
    expiresIn: int | str | None = Field(None, description="Seconds, or a duration such as 1h (capped)")


class UrlToken(BaseModel):
    token: str
    url: str
    signed: Literal[True]
    expiresAt: int | float | str
    scope: Literal["exact", "prefix"]


class JWKS(BaseModel):
    keys: list[dict[str, Any]] = Field(description="RFC 7517 public keys (kid, kty, alg, ...)")


class StreamRequest(BaseModel):
    url: str = Field(description="One of the tenant's files (access URL), or a URL for a remote provider")
    provider: str | None = None
    meta: dict[str, Any] = Field(description="At least a name")
    requireSignedUrl: Flag | None = None
    qualities: list[Any] | None = None


class StreamsRequest(BaseModel):
    streams: list[StreamRequest] = Field(min_length=1)


class ExistingStream(BaseModel):
    id: str
    url: str
    status: str
    uid: str | None
    hls_url: str | None
    dash_url: str | None
    thumbnail: str | None


class StreamsCreated(BaseModel):
    created: bool
    count: int
    ids: list[str]
    existing: list[ExistingStream] = Field(description="Ready copies of the same sources, not made again")


class Stream(BaseModel):
    id: str
    url: str
    provider: str
    uid: str | None
    status: Literal["pending", "processing", "downloading", "ready", "failed"]
    progress: float
    meta: dict[str, Any]
    required_signed_url: bool
    hls_url: str | None
    dash_url: str | None
    thumbnail: str | None
    duration: float | None
    qualities: list[dict[str, Any]] | None
    outputs: dict[str, Any]
    error: str | None
    created_at: float
    updated_at: float


class StreamPage(BaseModel):
    streams: list[Stream]
    total: int
    limit: int
    offset: int


class WebhookDelivery(BaseModel):
    id: str
    eventType: str
    status: Literal["pending", "delivered", "failed", "skipped"]
    attempts: int
    maxAttempts: int
    lastStatusCode: int | None
    lastError: str | None
    createdAt: Timestamp
    updatedAt: Timestamp
    deliveredAt: Timestamp | None
    nextAttemptAt: Timestamp | None


class WebhookAttempt(BaseModel):
    attempt: int
    url: str
    startedAt: Timestamp
    durationMs: int | float | None
    statusCode: int | None
    error: str | None
    responseBody: str | None


class WebhookDeliveryDetail(WebhookDelivery):
    event: dict[str, Any] = Field(description="The event exactly as sent")
    attemptLog: list[WebhookAttempt]


class WebhookDeliveries(BaseModel):
    deliveries: list[WebhookDelivery]


class EmbedTokenRequest(BaseModel):
    file: str = Field(description="The file's access URL (or its id)")
    expiresIn: int | str | None = Field(None, description="Seconds, or a duration such as 2h (capped)")
    user_id: str | None = Field(None, max_length=200, description="Shown in the player's watermark")
    user_name: str | None = Field(None, max_length=200)
    user_email: str | None = Field(None, max_length=200)


class EmbedToken(BaseModel):
    token: str
    url: str = Field(description="The embed page for the file, without the API key")
    expiresAt: int
