"""The HTML5 video editor's backend API and the custom URLs it calls, over the catalogue (docs/editor.md).

Translation only: requests are parsed here and answered in the editor's bare JSON objects; the work is
done by :mod:`origin.editor`.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.editor import (
    actions,
    audiolib,
    developer,
    editing,
    folders,
    media,
    misc,
    project_upload,
    projects,
    tasks,
    uploads,
    users,
    voiceovers,
)

routes: list[BaseRoute] = [
    *developer.routes,
    *users.routes,
    *tasks.routes,
    *editing.routes,
    *projects.routes,
    *actions.routes,
    *project_upload.routes,
    *voiceovers.routes,
    *media.routes,
    *folders.routes,
    *uploads.routes,
    *misc.routes,
    *audiolib.routes,
]
