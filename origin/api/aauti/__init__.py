"""The upload / API / delivery integration API: direct, TUS and from-URL uploads, file operations,
signed URL tokens, stream copies, webhooks settings and the embed player."""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.aauti import embed, files, from_url, listing, streams, tokens, tus, upload, webhooks
from origin.openapi import Dialect

#: Its part of the OpenAPI document (origin.openapi): the ``API-Key`` header, and the errors any route may answer.
OPENAPI = Dialect(
    "aauti",
    "The upload / API / delivery integration API: direct, TUS and from-URL uploads, file operations, signed "
    "URL tokens, stream copies, the webhook delivery log and the embed player. Authenticated by `API-Key`.",
    security=("ApiKey",),
    errors=(400, 401, 404),
)

routes: list[BaseRoute] = [
    *upload.routes,
    *from_url.routes,
    *webhooks.routes,
    *files.routes,
    *listing.routes,
    *tokens.routes,
    *streams.routes,
    *tus.routes,
    *embed.routes,
]
