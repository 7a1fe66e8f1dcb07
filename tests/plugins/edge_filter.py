"""A third-party edge request filter, written as a plugin author would: only ``mediaedge`` and
Starlette are imported. Requests under ``/f1/t1/u1/private-area/`` need ``X-Api-Key: letmein``;
every other answer gets ``X-Filtered-By``; ``/blocked`` is refused from an async implementation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mediaedge import hookimpl
from mediaedge.errors import HTTPError

API_KEY = "letmein"


class KeyFilter:
    @hookimpl
    def edge_request_filter(self, request: Request) -> Response | dict[str, str] | None:
        if request.url.path.startswith("/f1/t1/u1/private-area/"):
            if request.headers.get("x-api-key") != API_KEY:
                return JSONResponse({"statusCode": 401, "message": "API key required", "error": "Unauthorized"}, 401)
            return None
        return {"X-Filtered-By": "key-filter"}


class AsyncBlocker:
    @hookimpl
    async def edge_request_filter(self, request: Request) -> None:
        if request.url.path == "/blocked":
            raise HTTPError(403, "Blocked by policy", "BLOCKED")
