"""The request and response bodies of the video uploads API as pydantic models: what its ``describe``
declarations put in the OpenAPI document, mirroring :mod:`origin.api.uploads.routes` (checked against a
running origin by tests/origin/test_openapi.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from origin.catalogue.status import UPLOAD_STATUS_TEXT
from origin.openapi import Answer, one_of

Timestamp = str  # ISO 8601 UTC with milliseconds (origin.http.iso_time)

UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["video", "folder"],
    "properties": {
        "video": {"type": "string", "contentMediaType": "video/*", "description": "The video file"},
        "folder": {"type": "string", "examples": ["root/my-folder"]},
    },
}


class UploadState(Answer):
    status: int = one_of(UPLOAD_STATUS_TEXT, description=", ".join(f"{k} {v}" for k, v in UPLOAD_STATUS_TEXT.items()))
    status_text: str = one_of(UPLOAD_STATUS_TEXT.values())


class UploadAccepted(UploadState):
    id: str


class UploadAcceptedAnswer(Answer):
    message: str
    data: UploadAccepted


class Upload(UploadState):
    id: str
    filename: str
    created_at: Timestamp
    updated_at: Timestamp


class UploadAnswer(Answer):
    data: Upload


class UploadList(Answer):
    data: list[Upload] = Field(description="The 50 most recent, newest first")
