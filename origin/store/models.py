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
