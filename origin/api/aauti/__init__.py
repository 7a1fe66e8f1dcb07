"""The upload / API / delivery integration API: direct, TUS and from-URL uploads, file operations,
signed URL tokens, stream copies, webhooks settings and the embed player."""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.aauti import embed, files, from_url, streams, tokens, tus, upload, webhooks

routes: list[BaseRoute] = [
    *upload.routes,
    *from_url.routes,
    *webhooks.routes,
    *files.routes,
    *tokens.routes,
    *streams.routes,
    *tus.routes,
    *embed.routes,
]
