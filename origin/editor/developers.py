"""Developer profiles: how a tenant integrates the HTML5 video editor.

A tenant registers once (``POST /api/developer`` or ``mediaedge editor register``) and may change its
profile later. Registration creates the developer's ``apiKey`` (a key of the tenant named
``editor``), shown once; ``POST /api/users`` with that key opens sessions for the tenant. The profile
holds:

- ``callBackUrl``: where callback events go (through the webhook outbox, signed);
- ``fetchFileUrl``, ``mediaTabContentUrl``, ``fetchThumbnailUrl``: the custom URLs the editor calls
  (empty: mediaedge's own, over the catalogue);
- ``outputS3Bucket``: where rendered output goes; its credentials are sealed at rest
  (:mod:`origin.editor.sealed`) and never shown again — answers show the bucket and endpoint only;
- ``corsOrigins``: the origins the editor runs at, answered with ``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from mediaedge.errors import HTTPError
from mediaedge.settings import Settings
from origin.editor.sealed import open_sealed, seal
from origin.store import Store
from origin.store.editor import Developer

S3_FIELDS = ("awsBucketName", "awsEndPoint", "awsAccessKey", "awsSecreteKey")
URL_FIELDS = {
    "callBackUrl": "callback_url",
    "fetchFileUrl": "fetch_file_url",
    "mediaTabContentUrl": "media_tab_content_url",
    "fetchThumbnailUrl": "fetch_thumbnail_url",
}
API_KEY_NAME = "editor"


@dataclass(frozen=True)
class Registration:
    developer: Developer
    #: The new ``apiKey`` (only when one was made now: first registration, or a rotation).
    api_key: str | None


def invalid(message: str) -> HTTPError:
    return HTTPError(400, message, "editor.developer.invalid")


def check_url(name: str, value: Any) -> str:
    """An absolute http(s) URL, or empty."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise invalid(f"{name} must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"{name} must be an absolute http(s) URL")
    return value


def check_origin(value: Any) -> str:
    """A web origin: ``scheme://host[:port]`` with nothing after it."""
    if not isinstance(value, str):
        raise invalid("corsOrigins must be a list of origins")
    parts = urlsplit(value.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise invalid(f"corsOrigins: {value!r} is not an origin (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _s3(settings: Settings, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(f), str) and value.get(f) for f in S3_FIELDS):
        raise invalid("outputS3Bucket needs " + ", ".join(S3_FIELDS))
    check_url("outputS3Bucket.awsEndPoint", value["awsEndPoint"])
    return seal(settings, orjson.dumps({f: value[f] for f in S3_FIELDS}).decode())


def profile_fields(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """The store's columns for the fields a registration body gives (absent fields stay as they are)."""
    fields: dict[str, Any] = {}
    for name, column in URL_FIELDS.items():
        if name in body:
            fields[column] = check_url(name, body[name])
    origins = body.get("corsOrigins", [body["corsOrigin"]] if "corsOrigin" in body else None)
    if origins is not None:
        if not isinstance(origins, list):
            raise invalid("corsOrigins must be a list of origins")
        fields["cors_origins"] = sorted({check_origin(o) for o in origins})
    if "outputS3Bucket" in body:
        fields["output_s3"] = _s3(settings, body["outputS3Bucket"])
    return fields


async def register(
    store: Store, settings: Settings, tenant_id: str, body: dict[str, Any], *, rotate_key: bool = False
) -> Registration:
    """Create or change the tenant's profile; a first registration (or ``rotate_key``) makes an apiKey."""
    fields = profile_fields(settings, body)
    existing = await store.editor.developer(tenant_id)
    api_key = None
    if existing is None or existing.api_key_id is None or rotate_key:
        key, api_key = await store.api_keys.create(tenant_id, API_KEY_NAME, scopes=["editor"])
        if existing is not None and existing.api_key_id and rotate_key:
            await store.api_keys.revoke(tenant_id, existing.api_key_id)
        fields["api_key_id"] = key.id
    developer = await store.editor.put_developer(tenant_id, **fields)
    invalidate_origins()
    return Registration(developer, api_key)


def output_bucket(settings: Settings, developer: Developer) -> dict[str, str] | None:
    """The output bucket with its credentials (for the render step), or ``None``."""
    if developer.output_s3 is None:
        return None
    loaded: dict[str, str] = orjson.loads(open_sealed(settings, developer.output_s3))
    return loaded


def own_urls(base_url: str) -> dict[str, str]:
    """mediaedge's own custom URLs under the origin's public URL ``base_url``, for a developer who
    serves none of its own."""
    base = base_url.rstrip("/")
    return {
        "fetchFileUrl": f"{base}/api/dev/files",
        "mediaTabContentUrl": f"{base}/api/dev/media",
        "fetchThumbnailUrl": f"{base}/api/dev/thumbnail",
    }


def public_view(settings: Settings, developer: Developer, own_urls: dict[str, str]) -> dict[str, Any]:
    """The profile as answers show it: URLs (``own_urls`` where the developer serves none), bucket
    name and endpoint — never the credentials."""
    view: dict[str, Any] = {
        name: getattr(developer, column) or own_urls.get(name, "") for name, column in URL_FIELDS.items()
    }
    view["corsOrigins"] = developer.cors_origins
    bucket = output_bucket(settings, developer)
    view["outputS3Bucket"] = (
        None if bucket is None else {"awsBucketName": bucket["awsBucketName"], "awsEndPoint": bucket["awsEndPoint"]}
    )
    return view


# -- CORS for the editor's origins ----------------------------------------------------------------

ORIGINS_TTL = 5.0
_origins: tuple[float, frozenset[str]] = (0.0, frozenset())


def invalidate_origins() -> None:
    global _origins
    _origins = (0.0, frozenset())


async def editor_origins(store: Store) -> frozenset[str]:
    """Every developer's editor origins, re-read at most every few seconds (a new one works soon after
    registration in every process, at once in the one that registered it)."""
    global _origins
    read_at, origins = _origins
    if time.monotonic() - read_at > ORIGINS_TTL:
        origins = frozenset(await store.editor.cors_origins())
        _origins = (time.monotonic(), origins)
    return origins
