"""The media service API (``/api/v1/media``): presigned uploads with SHA-256 idempotency, assets of every
kind, variants, captions, transcripts and signed stream URLs, in the ``{"data": ...}`` envelope with
``Authorization: Bearer <key>`` (docs/api-media.md).

Each module exports ``routes``; this package collects them. Shared helpers (envelope, caller, rate
limits, error codes) live in :mod:`origin.api.media.envelope` for every module of the dialect,
AI generation (``origin.api.media.ai``) included when it is present.
"""

from __future__ import annotations

import importlib
import importlib.util

from starlette.routing import BaseRoute

from origin.api.media import assets, captions, streams, uploads

#: Modules of the dialect whose routes are mounted; ``ai`` when the AI generation module is installed.
MODULES = [uploads, captions, streams, assets]
if importlib.util.find_spec("origin.api.media.ai") is not None:
    MODULES.insert(0, importlib.import_module("origin.api.media.ai"))

routes: list[BaseRoute] = [route for module in MODULES for route in module.routes]
