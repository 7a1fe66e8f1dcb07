"""The editor's job kinds, registered at import (the worker imports this module)."""

from __future__ import annotations

from origin.editor import audiolib, imports, mediainfo, thumbnails

KINDS = (imports.IMPORT_URL, imports.IMPORT_BUCKET, mediainfo.MEDIAINFO, thumbnails.THUMBNAILS, audiolib.AUDIOLIB)
