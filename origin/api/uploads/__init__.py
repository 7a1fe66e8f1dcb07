"""The video uploads API (``/api/client/v1/uploads``): a multipart upload answered 202, then numeric
statuses (1 pending, 3 processing, 5 uploading, 6 completed, 7 failed) while the catalogue's pipeline
transcodes the video; the 50 most recent uploads; one upload by id."""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.uploads import routes as _routes
from origin.openapi import Dialect

#: Its part of the OpenAPI document (origin.openapi).
OPENAPI = Dialect(
    "uploads",
    "The video uploads API: multipart uploads answered 202, numeric statuses while the video is transcoded. "
    "`Authorization: Bearer <key>`.",
    security=("Bearer",),
    errors=(400, 401, 404),
)

routes: list[BaseRoute] = [*_routes.routes]
