"""The tenant dashboard at ``/dashboard`` (docs/dashboard.md): server-rendered Jinja2 pages, one small
script, browser libraries from npm (tus-js-client, uPlot), no build step.

- :mod:`.session` — login with an API key, the session cookie, expiry, CSRF tokens;
- :mod:`.views` — login, general settings (whitelist and its tester, webhook URL, signing key, API
  keys), the webhook delivery log, usage charts;
- :mod:`.media` — the catalogue (every asset of every dialect) and an asset's page with the player;
- :mod:`.uploads` — drag-and-drop TUS uploads through the API's TUS server;
- :mod:`.players` — the tenant's player themes (colours, logo, watermark, controls, defaults);
- :mod:`.operator` — the operator's tenant list (create, disable, enable), with ``dashboard.operator_key``.

No route here is part of the API description (``include_in_schema=False``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from origin.dashboard import media, operator, players, uploads, views
from origin.dashboard.render import ASSETS


def _get(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["GET"], include_in_schema=False)  # type: ignore[arg-type]


def _post(path: str, endpoint: object) -> Route:
    return Route(path, endpoint, methods=["POST"], include_in_schema=False)  # type: ignore[arg-type]


routes: list[BaseRoute] = [
    _get("/dashboard", views.index),
    _get("/dashboard/login", views.login_form),
    _post("/dashboard/login", views.login_submit),
    _post("/dashboard/logout", views.logout),
    _get("/dashboard/settings", views.settings_page),
    _post("/dashboard/settings/whitelist", views.save_whitelist),
    _post("/dashboard/settings/webhook", views.save_webhook),
    _post("/dashboard/settings/signing-key", views.rotate_signing_key),
    _post("/dashboard/settings/keys", views.create_key),
    _post("/dashboard/settings/editor", views.register_editor),
    _post("/dashboard/settings/keys/{key_id}/revoke", views.revoke_key),
    _get("/dashboard/media", media.media_page),
    _get("/dashboard/media/{asset_id}", media.media_detail),
    _get("/dashboard/media/{asset_id}/status", media.media_status),
    _post("/dashboard/media/{asset_id}/signed-url", media.signed_url),
    _get("/dashboard/webhooks", views.webhooks_page),
    _get("/dashboard/webhooks/{delivery_id}", views.webhook_page),
    _post("/dashboard/webhooks/{delivery_id}/redeliver", views.redeliver),
    _get("/dashboard/usage", views.usage_page),
    _get("/dashboard/players", players.players_page),
    _post("/dashboard/players", players.create_player),
    _get("/dashboard/players/{player_id}", players.player_page),
    _post("/dashboard/players/{player_id}", players.update_player),
    _post("/dashboard/players/{player_id}/delete", players.delete_player),
    _get("/dashboard/uploads", uploads.uploads_page),
    *uploads.tus_routes(),
    _get("/dashboard/operator", operator.tenants_page),
    _post("/dashboard/operator/tenants", operator.create_tenant),
    _post("/dashboard/operator/tenants/{tenant_id}/active", operator.set_active),
    _get("/dashboard/assets/{name}", ASSETS.serve),
]
