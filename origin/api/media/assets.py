"""``GET /api/v1/media`` (filters, cursor pages), ``GET|DELETE /api/v1/media/{id}``, ``GET /{id}/variants``."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from origin.api.media import schemas as s
from origin.api.media.envelope import authenticate, data, page
from origin.api.media.schemas import media_operation
from origin.api.media.shapes import asset_json, variants_json
from origin.media import listing
from origin.media.assets import asset_view, delete_asset, require_not_quarantined, tenant_asset
from origin.media.delivery import VARIANTS_SUFFIX, directory_url


@media_operation(query=s.LIST_QUERY, responses={200: s.MediaAssetPage})
async def list_media(request: Request) -> Response:
    """The tenant's assets, newest first: filters and cursor pages (follow ``links.next``)."""
    caller = await authenticate(request)
    query = listing.parse_query(request.query_params)
    assets, next_cursor = await listing.list_page(caller.state, caller.tenant, query)
    items = [asset_json(caller.state, await asset_view(caller.state, a)) for a in assets]
    base = f"{caller.state.settings.origin.url}/api/v1/media"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page[cursor]"]
    self_url = f"{base}?{urlencode(request.query_params.multi_items())}" if request.query_params else base
    next_url = f"{base}?{urlencode([*params, ('page[cursor]', next_cursor)])}" if next_cursor else None
    return page(items, next_url, self_url, query.size)


@media_operation(responses={200: s.MediaAssetAnswer}, errors=(451,))
async def get_media(request: Request) -> Response:
    """One asset: its variants, captions, transcript and stream URLs."""
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    require_not_quarantined(asset)
    variants = await directory_url(caller.state, asset, VARIANTS_SUFFIX, caller.user)
    return data(asset_json(caller.state, await asset_view(caller.state, asset), variants))


@media_operation(responses={204: "Deleted"}, errors=(503,))
async def delete_media(request: Request) -> Response:
    """Delete an asset: its stream, variants, captions and source object."""
    caller = await authenticate(request)
    await delete_asset(caller.state, caller.tenant, request.path_params["id"])
    return Response(status_code=204)


@media_operation(responses={200: s.MediaVariants}, errors=(451,))
async def variants(request: Request) -> Response:
    """The asset's variants: its stream's renditions, or an image's resized files."""
    caller = await authenticate(request)
    asset = await tenant_asset(caller.state, caller.tenant, request.path_params["id"])
    require_not_quarantined(asset)
    directory = await directory_url(caller.state, asset, VARIANTS_SUFFIX, caller.user)
    return data(variants_json(caller.state, await asset_view(caller.state, asset), directory))


routes = [
    Route("/api/v1/media", list_media, methods=["GET"]),
    Route("/api/v1/media/{id}", get_media, methods=["GET"]),
    Route("/api/v1/media/{id}", delete_media, methods=["DELETE"]),
    Route("/api/v1/media/{id}/variants", variants, methods=["GET"]),
]
