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
from origin.openapi import Dialect

#: Its part of the OpenAPI document (origin.openapi): the editor session's ``Authorization`` token
#: (from ``POST /api/users``); developer registration and media-info tasks take a tenant's key as a Bearer token.
OPENAPI = Dialect(
    "editor",
    "The HTML5 video editor's backend: media, folders, projects, action history, render tasks, uploads. "
    "Authenticated by the editor session's `Authorization` token from `POST /api/users`.",
    security=("EditorToken",),
    schemes={
        "EditorToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An editor session token (`POST /api/users` with the developer's apiKey).",
        },
    },
    errors=(400, 401, 403, 404),  # 403: a tenant key of a tenant not registered as an editor developer
    # the developer's apiKey (a tenant key): registration, and media-info tasks (also without "Bearer ")
    module_security={"origin.api.editor.developer": ("Bearer",), "origin.api.editor.tasks": ("Bearer",)},
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
