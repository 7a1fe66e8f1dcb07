"""The fastest possible answer through uvicorn: a raw ASGI app returning ``BARE_ASGI_BYTES`` bytes.

Run by :mod:`loadtests.bench_edge` on the edge's core to show the ceiling of the Python HTTP server
the edge runs on, so the edge's own cost is visible apart from uvicorn's.
"""

from __future__ import annotations

import os
from typing import Any

_BODY = os.urandom(int(os.environ.get("BARE_ASGI_BYTES", "1024")))
_HEADERS = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % len(_BODY))]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
