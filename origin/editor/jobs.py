"""The editor's job kinds, registered at import (the worker imports this module)."""

from __future__ import annotations

from origin.editor import audiolib, imports, mediainfo, project_import, render_tasks, thumbnails

KINDS = (
    imports.IMPORT_URL,
    imports.IMPORT_BUCKET,
    mediainfo.MEDIAINFO,
    thumbnails.THUMBNAILS,
    render_tasks.RENDER_JOB,
    project_import.IMPORT_PROJECT,
    audiolib.AUDIOLIB,
)
