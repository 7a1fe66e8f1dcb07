"""Row types of the metadata store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    webhook_url: str
    webhook_signing_key: str
    whitelisted_domains: list[str] = field(default_factory=list)
    app_ids: list[str] = field(default_factory=list)
    max_file_size: int | None = None
    active: bool = True
    created_at: float = 0.0

    def public_dict(self) -> dict[str, Any]:
        """Everything but secrets (list/update output)."""
        return {
            "id": self.id,
            "name": self.name,
            "webhook_url": self.webhook_url,
            "whitelisted_domains": self.whitelisted_domains,
            "app_ids": self.app_ids,
            "max_file_size": self.max_file_size,
            "active": self.active,
        }


@dataclass(frozen=True)
class Bucket:
    tenant_id: str
    name: str
    backend: str
    is_default: bool


@dataclass(frozen=True)
class FileRecord:
    id: str
    tenant_id: str
    bucket: str
    key: str
    filename: str
    user_id: str
    status: str
    mime: str
    size: int
    etag: str
    duration: float | None
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    require_signed: bool
    source: str
    created_at: float
    updated_at: float
    #: Names the ingest that made the file (``tus:<upload id>``, ``url:<job id>``), so a retried
    #: ingest finds its earlier attempt instead of registering the file twice.
    ingest_key: str | None = None


@dataclass(frozen=True)
class ApiKey:
    """One of a tenant's keys; the secret itself is never stored (only its SHA-256)."""

    id: str
    tenant_id: str
    name: str
    public_key: str | None
    scopes: list[str]
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    def public_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "public_key": self.public_key,
            "scopes": self.scopes,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked": self.revoked_at is not None,
        }


@dataclass(frozen=True)
class Asset:
    """A catalogue entry: one media item, the same record in every API (see ``origin.catalogue``)."""

    id: str
    tenant_id: str
    kind: str  # video | audio | image | other
    title: str
    description: str
    tags: list[str]
    metadata: dict[str, Any]
    is_public: bool
    status: str  # origin.catalogue.status.Status
    file_id: str | None
    stream_id: str | None
    folder: str
    user_id: str
    sha256: str | None
    mime: str
    size: int
    duration: float | None
    width: int | None
    height: int | None
    poster: str | None
    source: str
    dialect: str
    extra: dict[str, Any]
    progress: float
    error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Rendition:
    """One output of an asset (a quality, a progressive MP4, an audio track, an image variant)."""

    id: str
    asset_id: str
    kind: str
    name: str
    status: str
    spec: dict[str, Any]
    key: str | None
    size: int | None
    width: int | None
    height: int | None
    error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Caption:
    id: str
    asset_id: str
    language: str
    label: str
    format: str  # vtt | srt
    key: str  # storage key of the caption file
    approved: bool
    source: str  # manual | generated
    created_at: float


@dataclass(frozen=True)
class Transcript:
    id: str
    asset_id: str
    caption_id: str | None
    language: str
    text: str
    cues: list[dict[str, Any]]
    created_at: float
