"""The embeddable player (seed 000 "Embed & Player Integration", docs/embed.md).

- ``GET /embed?file=FILE_ID&api_key=KEY`` (the seed's form) or ``GET /embed?token=T`` (an embed URL
  from ``POST /embed/token``): an HTML page that plays the file's ready stream (``playStream``,
  default true) — HLS with hls.js, or DASH with dash.js when ``format=dash`` — or the file itself,
  through the edge with tokens minted here for this page. A player theme (``player``, else the
  file's video's ``player_id``) sets its colours, logo, watermark and default flags.
- ``POST /embed/token`` (``API-Key``): a short-lived signed embed URL that carries no API key.
- ``GET /embed/assets/{name}``: the page's script, style sheet, hls.js and dash.js, cacheable for a year.
- ``GET /embed/players/{id}/logo``: a theme's logo, cacheable for a year at its versioned URL.

Every query parameter reaches the page only inside a JSON data block with ``<``, ``>`` and ``&``
escaped, and the player script writes text with ``textContent``; a strict Content-Security-Policy
backs that up. The page sends no ``Referer``, so the API key in its URL never leaves the browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.streams import provider_classes
from mediaedge.tokens import SigningKey, sign_token
from mediaedge.whitelist import Whitelist
from origin.api.aauti.shapes import EmbedToken, EmbedTokenRequest
from origin.auth import require_tenant
from origin.embedding import mint_embed_token, read_embed_token
from origin.http import JSON, json_body, str_field
from origin.openapi import describe
from origin.players import embed_config, tenant_theme
from origin.state import OriginState, get_state
from origin.static import AssetSet, script_json, versioned_response
from origin.store import FileRecord, PlayerTheme, Tenant
from origin.store.streams import StreamRecord
from origin.streams.outputs import SERVED
from origin.videos.objects import player_id_of

log = logging.getLogger("mediaedge.embed")

#: The page's script, style sheet, hls.js and dash.js (from npm at install time), under ``/embed/assets/``.
ASSETS = AssetSet(
    "/embed/assets",
    {
        "player.js": "embed/player.js",
        "player.css": "embed/player.css",
        "hls.min.js": "embed/node_modules/hls.js/dist/hls.min.js",
        "dash.mediaplayer.min.js": "embed/node_modules/dashjs/dist/modern/umd/dash.mediaplayer.min.js",
    },
    "run `npm install --prefix origin/embed`",
)
FLAGS = {"playStream": True, "autoplay": False, "muted": False, "loop": False, "controls": True, "loader": True}
#: The flags a player theme gives defaults for.
THEME_FLAGS = ("autoplay", "muted", "loop", "controls")
#: ``format``: the stream the page plays (``hls`` unless asked for ``dash``).
FORMATS = ("hls", "dash")
WATERMARK_FIELDS = ("user_id", "user_name", "user_email")
MAX_WATERMARK_FIELD = 200
NONE = "'none'"


@cache
def _template() -> Template:
    return Template(resources.files("origin").joinpath("embed/player.html").read_text("utf-8"))


# -- embed tokens ----------------------------------------------------------------------------------


# -- request parsing -------------------------------------------------------------------------------


def _flag(request: Request, name: str) -> bool | None:
    """The flag as the query gives it; None when it does not."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise HTTPError(400, f"{name} must be true or false", "EMBED_PARAM_INVALID")


def _format(request: Request) -> str:
    value = (request.query_params.get("format") or "hls").lower()
    if value not in FORMATS:
        raise HTTPError(400, f"format must be one of {', '.join(FORMATS)}", "EMBED_PARAM_INVALID")
    return value


def _watermark(values: dict[str, Any]) -> str:
    parts = [str(values.get(name) or "").strip()[:MAX_WATERMARK_FIELD] for name in WATERMARK_FIELDS]
    return " · ".join(p for p in parts if p)


async def _page_file(request: Request, state: OriginState) -> tuple[Tenant, FileRecord, str, bool]:
    """The tenant, file and watermark of an embed request (API key or embed token), and whether it is
    a dashboard preview."""
    params = request.query_params
    token = params.get("token")
    preview = False
    if token:
        claims = read_embed_token(state, token)
        tenant = await state.store.tenants.get(claims["tid"])
        if tenant is None or not tenant.active:
            raise HTTPError(401, "Invalid embed token", "EMBED_TOKEN_INVALID")
        file_id, watermark = claims["fid"], claims.get("wm") or _watermark(dict(params))
        preview = claims.get("pv") is True
    else:
        tenant = await require_tenant(request, api_key=params.get("api_key"))
        file_id, watermark = params.get("file") or "", _watermark(dict(params))
    if not file_id or params.get("file", file_id) != file_id:
        raise HTTPError(400, "file must be the id of the file to play", "FILE_REQUIRED")
    return tenant, await _playable(state, tenant, file_id), watermark, preview


async def _playable(state: OriginState, tenant: Tenant, file_id: str) -> FileRecord:
    record = await state.store.files.get(file_id)
    if record is None or record.tenant_id != tenant.id or record.status != "ready":
        raise HTTPError(404, "File not found", "FILE_NOT_FOUND")
    if not record.mime.startswith(("video/", "audio/")):
        raise HTTPError(400, "The file is not audio or video", "FILE_NOT_PLAYABLE")
    return record


def _same_origin(request: Request, url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


def _check_framing(request: Request, whitelist: Whitelist, preview: bool) -> None:
    """Refuse pages outside the tenant's whitelist (the Referer of an iframe load is its parent); a
    dashboard preview only the origin's own pages."""
    referer = request.headers.get("referer")
    if preview:
        if referer and not _same_origin(request, referer):
            raise HTTPError(403, "A dashboard preview plays on the dashboard only", "ORIGIN_NOT_WHITELISTED")
        return
    if referer and not whitelist.allows_url(referer):
        raise HTTPError(403, "This page may not embed the tenant's media", "ORIGIN_NOT_WHITELISTED")


# -- playback URLs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signer:
    """Edge URLs for one page view: one signing key, one expiry (recorded once, by :meth:`note`)."""

    state: OriginState
    tenant_id: str
    key: SigningKey
    now: int
    expires_at: int

    @classmethod
    async def start(cls, state: OriginState, tenant_id: str, lifetime: int) -> _Signer:
        now = int(time.time())
        return cls(state, tenant_id, await state.keys.active(), now, now + lifetime)

    def url(self, record: FileRecord) -> str:
        """``{EDGE}/{token}/{key}`` of a file, the token bound to exactly that file."""
        token = sign_token(
            self.key,
            tenant_id=self.tenant_id,
            path=record.key,
            file_id=record.id,
            expires_at=self.expires_at,
            now=self.now,
        )
        return f"{self.state.settings.edge.url}/{token}/{quote(record.key)}"

    def stream_url(self, stream: StreamRecord, prefix: str, playlist: str) -> str:
        """``{EDGE}/{token}/{prefix}{playlist}``, the token covering the stream's folder ``prefix``."""
        token = sign_token(
            self.key,
            tenant_id=self.tenant_id,
            path=prefix,
            scope="prefix",
            asset_id=stream.id,
            expires_at=self.expires_at,
            now=self.now,
        )
        return f"{self.state.settings.edge.url}/{token}/{quote(prefix + playlist)}"

    async def note(self) -> None:
        await self.state.store.signing_keys.note_expiry(self.key.kid, self.expires_at)


def _playback_lifetime(state: OriginState, record: FileRecord) -> int:
    lifetime = max(parse_duration(state.settings.embed.playback_expires_in), int((record.duration or 0) * 2 + 1))
    return min(lifetime, parse_duration(state.settings.tokens.max_expires_in))


def _manifest(stream: StreamRecord, form: str) -> str | None:
    return stream.dash_url if form == "dash" else stream.hls_url


async def _ready_stream(state: OriginState, record: FileRecord, form: str) -> StreamRecord | None:
    """The file's stream with a manifest of ``form`` (``hls`` or ``dash``) — ready, or being made
    with some renditions published — the default provider's first (one query)."""
    default = state.settings.streams.default_provider
    providers = provider_classes(state.pm)
    playable = [
        s
        for s in await state.store.streams.of_source(record.tenant_id, record.id)
        if s.status in SERVED and _manifest(s, form) and s.provider in providers
    ]
    return min(playable, key=lambda s: s.provider != default, default=None)


async def _stream_url(state: OriginState, record: FileRecord, signer: _Signer, form: str) -> str | None:
    """The file's ready HLS master playlist or DASH manifest: on the edge with a prefix token for the
    stream's folder, or a remote provider's URL as it is."""
    stream = await _ready_stream(state, record, form)
    manifest = _manifest(stream, form) if stream else None
    if stream is None or manifest is None:
        return None
    if not (stream.output_prefix and manifest.startswith(state.settings.edge.url + "/")):
        return manifest
    name = urlsplit(manifest).path.rsplit("/", 1)[-1]
    return signer.stream_url(stream, stream.output_prefix, name)


# -- player themes ---------------------------------------------------------------------------------


async def _theme(request: Request, state: OriginState, tenant: Tenant, record: FileRecord) -> PlayerTheme | None:
    """The page's theme: ``player`` (the tenant's own, else 404), or the player of the file's video."""
    chosen = request.query_params.get("player")
    if chosen:
        return await tenant_theme(state, tenant.id, chosen)
    asset = await state.store.assets.by_file(record.id)
    player_id = player_id_of(asset) if asset and asset.tenant_id == tenant.id else ""
    return await state.store.player_themes.get(tenant.id, player_id) if player_id else None


# -- the page --------------------------------------------------------------------------------------


def _origins(urls: Sequence[str]) -> list[str]:
    return sorted({f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls)})


def _csp(media_urls: list[str], whitelist: Whitelist, preview: bool = False, image_urls: Sequence[str] = ()) -> str:
    """The page's policy: our scripts and styles only, media from the edge, the theme's logo, framed
    by whitelisted sites (a dashboard preview: by the origin's own pages)."""
    origins = _origins(media_urls)
    ancestors = "*"
    if preview:
        ancestors = "'self'"
    elif whitelist.restricted:
        hosts = sorted([*whitelist.exact, *("*" + suffix for suffix in whitelist.suffixes)])
        ancestors = " ".join(f"{scheme}://{host}" for host in hosts for scheme in ("https", "http")) or NONE
    return (
        f"default-src {NONE}; script-src 'self'; style-src 'self'; media-src {' '.join([*origins, 'blob:'])}; "
        f"img-src {' '.join(_origins(image_urls)) or NONE}; "
        f"connect-src {' '.join(origins) or NONE}; worker-src blob:; frame-ancestors {ancestors}; "
        f"base-uri {NONE}; form-action {NONE}"
    )


def _page(config: dict[str, Any], status: int, csp: str) -> HTMLResponse:
    libraries = (
        ASSETS.url("hls.min.js") if config.get("hls") else None,
        ASSETS.url("dash.mediaplayer.min.js") if config.get("dash") else None,
    )
    scripts = [url for url in (*libraries, ASSETS.url("player.js")) if url]
    html = _template().substitute(
        css=ASSETS.url("player.css") or "",
        config=script_json(config),
        scripts="\n".join(f'<script src="{url}"></script>' for url in scripts),
    )
    headers = {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, status, headers)


@describe(
    security=(),
    responses={
        200: "The player page (text/html)",
        400: "The player page with the error (text/html)",
        401: "The player page with the error (text/html)",
        403: "The player page with the error (text/html)",
        404: "The player page with the error (text/html)",
    },
)
async def embed_page(request: Request) -> HTMLResponse:
    """The embeddable player page for one file (API key or embed token in the query)."""
    state = get_state(request)
    source = state.settings.embed.source
    try:
        given = {name: _flag(request, name) for name in FLAGS}
        form = _format(request)
        tenant, record, watermark, preview = await _page_file(request, state)
        whitelist = Whitelist.of(tenant.whitelisted_domains)
        _check_framing(request, whitelist, preview)
        theme = await _theme(request, state, tenant, record)
        signer = await _Signer.start(state, tenant.id, _playback_lifetime(state, record))
        play_stream = given["playStream"] is not False
        dash = await _stream_url(state, record, signer, "dash") if play_stream and form == "dash" else None
        hls = await _stream_url(state, record, signer, "hls") if play_stream and dash is None else None
        mp4 = signer.url(record)
        await signer.note()
    except HTTPError as exc:
        return _page({"source": source, "error": exc.message}, exc.status, _csp([], Whitelist.of([])))
    defaults = {**FLAGS, **({name: getattr(theme, name) for name in THEME_FLAGS} if theme else {})}
    themed = embed_config(state, theme) if theme else None
    config = {
        "source": source,
        "hls": hls,
        "dash": dash,
        "mp4": mp4,
        "duration": record.duration,
        "watermark": watermark or (theme.watermark if theme else ""),
        "theme": themed,
        **{name: defaults[name] if value is None else value for name, value in given.items() if name != "playStream"},
    }
    logo = [themed["logo"]] if themed and themed["logo"] else []
    return _page(config, 200, _csp([u for u in (hls, dash, mp4) if u], whitelist, preview, logo))


@describe(request=EmbedTokenRequest, responses={200: EmbedToken})
async def embed_token(request: Request) -> JSON:
    """``{file, expiresIn?, user_id?, user_name?, user_email?}`` → a signed embed URL without the API key."""
    state = get_state(request)
    tenant = await require_tenant(request)
    body = await json_body(request)
    record = await _playable(state, tenant, str_field(body, "file", required=True) or "")
    try:
        lifetime = parse_duration(body.get("expiresIn") or state.settings.embed.url_expires_in)
    except ValueError as exc:
        raise HTTPError(400, f"expiresIn: {exc}", "EXPIRES_IN_INVALID") from None
    lifetime = min(lifetime, parse_duration(state.settings.tokens.max_expires_in))
    watermark = _watermark({name: str_field(body, name) for name in WATERMARK_FIELDS})
    token = mint_embed_token(state, tenant, record.id, lifetime, watermark)
    url = f"{state.settings.origin.url}/embed?{urlencode({'file': record.id, 'token': token})}"
    return JSON({"token": token, "url": url, "expiresAt": int(time.time()) + lifetime})


@describe(security=(), responses={200: "The file", 304: "Not modified"})
async def embed_asset(request: Request) -> Response:
    """The player page's script, style sheet, hls.js or dash.js (cacheable for a year at its versioned URL)."""
    return await ASSETS.serve(request)


@describe(security=(), responses={200: "The image", 304: "Not modified", 404: "No such player or no logo"})
async def player_logo(request: Request) -> Response:
    """A player theme's logo (cacheable for a year at its versioned URL, ``?v=``)."""
    logo = await get_state(request).store.player_themes.logo(request.path_params["player_id"])
    if logo is None:
        raise HTTPError(404, "The player has no logo", "PLAYER_LOGO_NOT_FOUND")
    return versioned_response(
        request, logo.data, logo.media_type, logo.version, {"Content-Security-Policy": f"default-src {NONE}; sandbox"}
    )


routes = [
    Route("/embed", embed_page, methods=["GET"]),
    Route("/embed/token", embed_token, methods=["POST"]),
    Route("/embed/assets/{name}", embed_asset, methods=["GET"]),
    Route("/embed/players/{player_id}/logo", player_logo, methods=["GET"]),
]
