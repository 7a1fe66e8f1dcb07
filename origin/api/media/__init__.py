"""The media service API (``/api/v1/media``): presigned uploads with SHA-256 idempotency, assets of every
kind, variants, captions, transcripts and signed stream URLs, in the ``{"data": ...}`` envelope with
``Authorization: Bearer <key>`` (docs/api-media.md).

Each module exports ``routes``; this package collects them. Shared helpers (envelope, caller, rate
limits, error codes) live in :mod:`origin.api.media.envelope` for every module of the dialect,
AI generation (:mod:`origin.api.media.ai`) included.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from origin.api.media import ai, assets, captions, streams, uploads
from origin.openapi import Dialect

#: Modules of the dialect whose routes are mounted (``ai`` first: its paths are more specific).
MODULES = [ai, uploads, captions, streams, assets]

#: Its part of the OpenAPI document (origin.openapi).
OPENAPI = Dialect(
    "media",
    "The media service API: presigned uploads, assets of every kind, variants, captions, transcripts, signed "
    'stream URLs and AI generation, in the `{"data": ...}` envelope. `Authorization: Bearer <key>`.',
    security=("Bearer",),
    errors=(400, 401, 404),
)

routes: list[BaseRoute] = [route for module in MODULES for route in module.routes]
