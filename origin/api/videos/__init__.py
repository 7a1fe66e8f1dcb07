"""The video objects API (``/api/videos``, docs/api-videos.md): video objects with custom encoding
qualities, list/search/sort, transcode cost, chunked part upload with Content-Range and MD5, complete,
update, thumbnail, delete, and asset URLs that lead to the edge.

Answers are ``{"status": "success", "data": …}`` (or ``"message"``); errors the common body with a
``code``. Authentication: ``Authorization: Bearer <key>`` or the ``stream-public-key`` +
``stream-secret-key`` pair; the asset URLs (``/m3u8``, ``/manifest``, ``/source``, ``/mp4``,
``/thumbnail``) need none (a private video's carry a signed link instead).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.videos import objects, playback, upload
from origin.openapi import Dialect

#: Its part of the OpenAPI document (origin.openapi): Bearer or the key pair; the asset URLs are public.
OPENAPI = Dialect(
    "videos",
    "The video objects API: video objects with custom encoding qualities, chunked part upload, asset URLs. "
    "`Authorization: Bearer <key>` or the `stream-public-key` + `stream-secret-key` pair.",
    security=("Bearer", "StreamKeyPair"),
    schemes={
        "StreamKeyPair": {
            "type": "apiKey",
            "in": "header",
            "name": "stream-secret-key",
            "description": "The secret half of a key pair, sent with `stream-public-key`.",
        },
    },
    errors=(400, 401, 404),
    public_modules=("origin.api.videos.playback",),
)

routes: list[BaseRoute] = [*playback.routes, *upload.routes, *objects.routes]
