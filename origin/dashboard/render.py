"""Jinja2 rendering of dashboard pages, with the headers every page carries."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from origin.dashboard.session import CSRF_FIELD, Login
from origin.http import iso_time
from origin.static import AssetSet, script_json

#: The dashboard's own script and style sheet, and the npm packages it uses (``origin/dashboard/package.json``).
ASSETS = AssetSet(
    "/dashboard/assets",
    {
        "dashboard.js": "dashboard/static/dashboard.js",
        "dashboard.css": "dashboard/static/dashboard.css",
        "tus.min.js": "dashboard/node_modules/tus-js-client/dist/tus.min.js",
        "uPlot.iife.min.js": "dashboard/node_modules/uplot/dist/uPlot.iife.min.js",
        "uPlot.min.css": "dashboard/node_modules/uplot/dist/uPlot.min.css",
    },
    "run `npm install --prefix origin/dashboard`",
)

#: Our scripts and styles only; the player page (same origin) in frames; no plugins, no framing of us.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

NAV = [
    ("settings", "General settings", "/dashboard/settings"),
    ("media", "Media", "/dashboard/media"),
    ("uploads", "Uploads", "/dashboard/uploads"),
    ("webhooks", "Webhooks", "/dashboard/webhooks"),
    ("usage", "Usage", "/dashboard/usage"),
    ("players", "Players", "/dashboard/players"),
]


def size_text(value: float | int | None) -> str:
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("origin", "dashboard/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = size_text
    env.filters["time"] = iso_time
    env.filters["script_json"] = script_json
    env.globals["asset_url"] = ASSETS.url
    env.globals["nav"] = NAV
    env.globals["csrf_field"] = CSRF_FIELD
    return env


def render(
    request: Request, template: str, login: Login | None, http_status: int = 200, **context: Any
) -> HTMLResponse:
    html = environment().get_template(template).render(request=request, login=login, **context)
    return HTMLResponse(html, http_status, headers=HEADERS)
