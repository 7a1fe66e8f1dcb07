"""The video uploads API (``/api/client/v1/uploads``): a multipart upload answered 202, then numeric
statuses (1 pending, 3 processing, 5 uploading, 6 completed, 7 failed) while the catalogue's pipeline
transcodes the video; the 50 most recent uploads; one upload by id."""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.uploads import routes as _routes

routes: list[BaseRoute] = [*_routes.routes]
