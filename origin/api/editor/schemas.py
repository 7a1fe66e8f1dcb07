"""The request and response bodies of the HTML5 editor's backend as pydantic models: what its
``describe`` declarations put in the OpenAPI document, mirroring :mod:`origin.api.editor.entries` and
the handlers' bare JSON objects (checked against a running origin by tests/origin/test_openapi.py).
Field names are the editor's wire names."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from origin.api.editor.common import DEFAULT_COUNT, MAX_COUNT
from origin.api.editor.entries import STAGES
from origin.editor.audiolib import TYPES
from origin.editor.media import FILTERS, KINDS, SORT_COLUMNS
from origin.openapi import Absent, Answer, one_of

Ticks = int  # 100 ns units (10000000 = 1 s)
UnixMs = int  # Unix time in milliseconds

#: ``?id=``: the media file (or task, session) a query-addressed route is about.
ID_QUERY: dict[str, Any] = {"id": {"type": "string"}}
PAGE_QUERY: dict[str, Any] = {
    "start_number": {"type": "integer", "minimum": 0, "default": 0},
    "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT, "default": DEFAULT_COUNT},
    "search": {"type": "string"},
}
ORDER_QUERY: dict[str, Any] = {"sort_order": {"type": "string", "enum": ["asc", "desc"]}}
LIBRARY_QUERY: dict[str, Any] = {"type": {"type": "string", "enum": list(TYPES), "default": TYPES[0]}}


def listing_query(filters: tuple[str, ...]) -> dict[str, Any]:
    """The media tab's query: paging, type filter and sort."""
    return {
        **PAGE_QUERY,
        "filter": {"type": "string", "description": f"Comma-separated: {', '.join(filters)}"},
        "sort_field": {"type": "string", "enum": list(SORT_COLUMNS), "default": "createTime"},
        **ORDER_QUERY,
    }


MEDIA_QUERY = {**listing_query(FILTERS), "folder": {"type": "string", "description": "A folder's id (default root)"}}
DEV_MEDIA_QUERY = listing_query(KINDS)
FORCE_QUERY: dict[str, Any] = {"force": {"type": "string", "enum": ["1", "true"], "description": "Even if used"}}
CONTENT_RANGE: dict[str, Any] = {"Content-Range": {"type": "string", "description": "bytes a-b/n"}}
CHUNK: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}


def chunk_upload(answer: type[BaseModel]) -> dict[str, Any]:
    """What a ``PUT`` of one chunk declares (media files and project zips alike): the raw bytes,
    ``?id=``, ``Content-Range``, ``answer`` with 200 when complete and 206 before."""
    return {
        "request": CHUNK,
        "request_type": "application/octet-stream",
        "query": ID_QUERY,
        "required_query": ("id",),
        "headers": CONTENT_RANGE,
        "responses": {200: answer, 206: answer},
        "errors": (409, 423),
    }


# -- shared answers --------------------------------------------------------------------------------


class EditorId(Answer):
    id: str


class EditorEmpty(Answer):
    """``{}``: done."""


class EditorImage(Answer):
    data: str = Field(description="A base64 PNG")


class EditorMediaError(Answer):
    """The editor's ``media_error_description_object``."""

    type: str = Field(examples=["not_found", "used_in_projects", "not_empty", "unsupported_media"])
    message: str
    title: str


class EditorErrorAnswer(Answer):
    """What media file and folder deletion answer: ``error`` null when done."""

    error: EditorMediaError | None


class EditorThumbnail(Answer):
    time: Ticks
    data: str = Field(description="A base64 PNG")


# -- media files -----------------------------------------------------------------------------------


class EditorFileFacts(Answer):
    name: str
    filetype: str
    mediaType: str
    duration: Ticks
    size: int
    thumbnail: str = Field(description="A base64 PNG, or empty")
    audioTracks: list[str]
    previewUrl: str = Field(description="The signed URL of the stored file (empty until it is ready)")


class EditorDevEntry(EditorFileFacts):
    """``dev_media_file_entry_object``: what the custom URLs answer."""

    id: str
    width: int
    height: int


class EditorMediaEntry(EditorDevEntry):
    """``media_file_entry_object``: the custom-URL fields plus type, status, progress and error."""

    type: str = one_of(("test", "uploaded", "url", "output"))
    originalUrl: str
    status: str = one_of((*STAGES, "ready"))
    progress: int
    error: EditorMediaError | None
    taskId: str | None
    categoryId: str | None
    moodId: str | None
    createTime: UnixMs


class EditorFolderEntry(EditorMediaEntry):
    type: Literal["folder"]
    folder: str = Field(description="The parent folder's id (root at the top)")


class EditorMediaPage(Answer):
    total_count: int
    entries: list[EditorFolderEntry | EditorMediaEntry] = Field(description="Folders first, then files")


class EditorDevMediaPage(Answer):
    total_count: int
    entries: list[EditorDevEntry]


class EditorAudioPage(Answer):
    total_count: int
    entries: list[EditorMediaEntry]


class EditorMediaStatus(Answer):
    status: str = one_of((*STAGES, "ready"))
    progress: int
    error: EditorMediaError | None


class EditorThumbnails(Answer):
    status: Literal[""]
    thumbnails: list[EditorThumbnail]


# -- developer, users ------------------------------------------------------------------------------


class EditorBucketRequest(BaseModel):
    awsBucketName: str
    awsEndPoint: str
    awsAccessKey: str
    awsSecreteKey: str


class EditorDeveloperRequest(BaseModel):
    """Absent fields stay as they are; an empty URL: mediaedge's own custom URL."""

    callBackUrl: str | None = None
    fetchFileUrl: str | None = None
    mediaTabContentUrl: str | None = None
    fetchThumbnailUrl: str | None = None
    corsOrigins: list[str] | None = Field(None, description="Web origins (scheme://host[:port])")
    corsOrigin: str | None = Field(None, description="One origin (instead of corsOrigins)")
    outputS3Bucket: EditorBucketRequest | None = Field(None, description="Where renders are put too (null: none)")
    rotateApiKey: bool = False


class EditorBucket(Answer):
    awsBucketName: str
    awsEndPoint: str


class EditorDeveloper(Answer):
    callBackUrl: str
    fetchFileUrl: str
    mediaTabContentUrl: str
    fetchThumbnailUrl: str
    corsOrigins: list[str]
    outputS3Bucket: EditorBucket | None
    apiKey: str | Absent = Field(None, description="Only when one was made now (registration, rotation)")


class EditorUserRequest(BaseModel):
    apiKey: str = Field(description="The developer's apiKey")
    name: str | None = None
    data: str | None = None
    apiAuthToken: str | None = Field(None, description="Your server's token for the session (empty: none)")


class EditorUserChange(BaseModel):
    apiKey: str | None = None
    name: str | None = None
    data: str | None = None
    apiAuthToken: str | None = None


class EditorUser(Answer):
    name: str
    data: str


# -- media-info and editing tasks ------------------------------------------------------------------


class EditorMediaInfoRequest(BaseModel):
    originalUrl: str
    previewUrl: str | None = None


class EditorMediaInfo(EditorFileFacts):
    width: int | None
    height: int | None


class EditorMediaInfoResult(Answer):
    info: EditorMediaInfo
    thumbnails: list[EditorThumbnail]


class EditorRunning(Answer):
    id: str
    status: Literal["running"]


class EditorRenderRequest(BaseModel):
    xtl_task: str = Field(description="The XTL timelines")
    projectId: str | None = None


class EditorRenderQueued(Answer):
    taskId: str
    fileId: str = Field(description="The (first) output media file")


class EditorEngineError(Answer):
    """``engine_error_description_object``."""

    type: str = Field(examples=["engine_error", "download_error", "upload_error"])
    message: str
    code: int


class EditorRenderTask(Answer):
    id: str
    progress: int
    status: Literal["running", "downloading", "uploading", "completed", "aborted", "error"]
    outputUrls: list[str]
    fileIds: list[str]
    error: EditorEngineError | Absent = None


class EditorRenderStopped(Answer):
    status: str = Field(description='Empty when stopped now, else "the task had ended: <status>"')


# -- projects, actions, project import -------------------------------------------------------------


class EditorProjectRequest(BaseModel):
    name: str
    data: Any = None
    thumbnail: str | None = Field(None, description="A base64 image")
    createTime: UnixMs | None = None


class EditorProjectChange(BaseModel):
    name: str | None = None
    data: Any = None
    thumbnail: str | None = None
    modifTime: UnixMs | None = None


class EditorProject(Answer):
    id: str
    name: str
    createTime: UnixMs
    modifTime: UnixMs
    thumbnail: str
    data: Any = Field(None, description="Left out of lists asked with data=0")


class EditorProjects(Answer):
    total_count: int
    entries: list[EditorProject]


class EditorActionRequest(BaseModel):
    project: str = Field(description="The project's id (or projectId)")
    id: str | int | None = None
    name: str | None = None
    data: Any = None
    createTime: UnixMs | None = None


class EditorActionChange(BaseModel):
    canceled: bool = Field(description="true: undo, false: redo")
    modifTime: UnixMs | None = None


class EditorAction(Answer):
    id: str
    name: str
    data: Any
    canceled: bool
    createTime: UnixMs
    modifTime: UnixMs


class EditorActions(Answer):
    entries: list[EditorAction]


class EditorProjectImportRequest(BaseModel):
    size: int = Field(gt=0, description="Bytes of the zip")
    name: str = "project.zip"
    fps: float | None = Field(None, ge=1, le=120)
    createFolder: bool = False


class EditorProjectChunk(Answer):
    size: int
    received: int


class EditorProjectImport(Answer):
    stage: str = Field(examples=["upload", "unpack", "import_media", "ready", "canceled"])
    progress: int
    error: str | Absent = None


# -- uploads and imports ---------------------------------------------------------------------------


class EditorUploadRequest(BaseModel):
    size: int = Field(gt=0)
    name: str
    folder: str | None = None


class EditorHeld(Answer):
    id: str
    size: int
    received: int


class EditorImportUrl(BaseModel):
    url: str
    folder: str | None = None


class EditorImportBucket(BaseModel):
    awsAccessKey: str
    awsSecreteKey: str
    awsBucketName: str
    awsEndPoint: str | None = None
    awsRegion: str | None = "us-east-1"
    folder: str | None = None


class EditorImportQueued(Answer):
    id: str
    error: Literal[""]


# -- folders ---------------------------------------------------------------------------------------


class EditorFolderRequest(BaseModel):
    name: str
    folder: str | None = Field(None, description="The parent folder's id (default root)")


class EditorFolderChange(BaseModel):
    name: str | None = None


class EditorMove(BaseModel):
    files: list[str] = []
    folders: list[str] = []


# -- voiceovers, overlays, statistics, audio library -----------------------------------------------


class EditorVoiceoverRequest(BaseModel):
    sdpOffer: str = Field(description="A WebRTC SDP offer")
    iceCandidates: list[Any] = []


class EditorVoiceoverAnswer(Answer):
    id: str
    sdpAnswer: str
    iceCandidates: list[dict[str, Any]]


class EditorVoiceoverStart(BaseModel):
    name: str | None = None


class EditorVoiceover(Answer):
    id: str
    connectionState: str
    recording: bool
    recordedSeconds: float


class EditorVoiceoverStopped(Answer):
    mediaFileId: str | Absent = Field(None, description="With keepRecording: the recording's media file")


class EditorOverlayRequest(BaseModel):
    data: str = Field(description="A base64 PNG (or a data: URL)")


class EditorOverlay(Answer):
    status: Literal[""]
    id: str


class EditorStats(Answer):
    activeUsersCount: int
    activeBuildThumbsTasksCount: int
    activeRenderTasksCount: int
    activeImportFromURLTasksCount: int
    activeImportFromLocalDriveCount: int


class EditorVersion(Answer):
    version: str


class EditorLibraryImport(Answer):
    processedCount: int
    totalCount: int
    error: str | None
    status: Literal["none", "running", "done", "failed"]


class EditorLibraryGroup(Answer):
    id: str
    name: str
    entriesCount: int


class EditorLibraryGroups(Answer):
    entries: list[EditorLibraryGroup]
