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

routes: list[BaseRoute] = [*playback.routes, *upload.routes, *objects.routes]
