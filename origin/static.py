"""Static browser assets the origin serves from its package (its own scripts and npm-vendored ones).

An :class:`AssetSet` maps served names to files inside the ``origin`` package. Pages link an asset
as ``{prefix}/{name}?v=<content hash>`` (:meth:`AssetSet.url`), answered with ``Cache-Control:
public, max-age=31536000, immutable`` and an ``ETag`` (``304`` on ``If-None-Match``); without the
matching ``v``, ``max-age=300``. npm packages are installed at install time (``make install``), not
kept in the repository; a missing one is logged and answers 404.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from importlib import resources

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mediaedge.errors import HTTPError

log = logging.getLogger("mediaedge.static")

TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    version: str
    media_type: str


@dataclass(frozen=True)
class AssetSet:
    """Served name → path inside the ``origin`` package, under the URL ``prefix``."""

    prefix: str
    files: dict[str, str]
    #: How to install what is missing, for the log line (e.g. ``npm ci --prefix origin/embed``).
    install_hint: str = ""
    _loaded: dict[str, Asset | None] = field(default_factory=dict, init=False, compare=False, repr=False)

    def get(self, name: str) -> Asset | None:
        if name not in self.files:
            return None
        if name not in self._loaded:
            path = resources.files("origin").joinpath(self.files[name])
            if not path.is_file():
                log.warning("asset %s is missing (%s)", self.files[name], self.install_hint or "reinstall")
                self._loaded[name] = None
            else:
                body = path.read_bytes()
                kind = TYPES.get(name[name.rfind(".") :], "application/octet-stream")
                self._loaded[name] = Asset(body, hashlib.sha256(body).hexdigest()[:16], kind)
        return self._loaded[name]

    def url(self, name: str) -> str | None:
        """The asset's immutable URL, None when it is missing."""
        asset = self.get(name)
        return None if asset is None else f"{self.prefix}/{name}?v={asset.version}"

    async def serve(self, request: Request) -> Response:
        """The route endpoint: ``{prefix}/{name}``."""
        asset = self.get(request.path_params["name"])
        if asset is None:
            raise HTTPError(404, "Not found")
        return versioned_response(request, asset.body, asset.media_type, asset.version)


def versioned_response(
    request: Request, body: bytes, media_type: str, version: str, headers: dict[str, str] | None = None
) -> Response:
    """``body`` with an ``ETag`` of ``version`` (``304`` on ``If-None-Match``), cacheable for a year
    when the URL's ``v`` names that version, else for five minutes."""
    etag = f'"{version}"'
    immutable = request.query_params.get("v") == version
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=media_type)


def script_json(data: object) -> str:
    """JSON for a ``<script type="application/json">`` block that cannot end it early (``<``, ``>``,
    ``&`` escaped)."""
    return orjson.dumps(data).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
