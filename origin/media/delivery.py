"""Signed delivery of media assets through the edge: stream URLs, variant and caption URLs.

Every URL is ``{EDGE}/{token}/{key}`` with a prefix token (DESIGN §3) for one directory of one asset,
bound to the tenant (``tid``, and the key starts with the tenant's id: the per-tenant prefix is
checked here, where tokens are signed), to the asset or its stream (``aid``, which the edge compares
with the object's ``X-Mediaedge-Asset-Id``) and to the calling user (``sub``):

- the stream's output directory ``{key}.stream/`` (``aid`` = the stream's id) for HLS and DASH;
- ``{key}.variants/`` (image variants) and ``{key}.captions/`` (caption files), ``aid`` = the asset id,
  served to edges by :func:`asset_object`.

A token lives ``media.stream_url_ttl``, and at least twice the asset's duration. The same token (same
key, directory, asset and user) is handed out again for up to :data:`TOKEN_REUSE_SECONDS` (at most a
tenth of its lifetime), so a player asking again costs no new signature.
"""

from __future__ import annotations

import time

from cachetools import TTLCache

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from mediaedge.tokens import sign_token
from origin.catalogue.status import Status
from origin.media.assets import require_ready
from origin.served import Served, derived_object
from origin.state import OriginState
from origin.store import Asset
from origin.store.streams import StreamRecord

CAPTIONS_SUFFIX = ".captions/"
VARIANTS_SUFFIX = ".variants/"
_SUFFIXES = (CAPTIONS_SUFFIX, VARIANTS_SUFFIX)
MAX_AGE = 60
#: How long a signed directory token is handed out again to the same user (seconds).
TOKEN_REUSE_SECONDS = 60
#: Tokens signed lately: (kid, directory, bound to, user, lifetime) → (token, signed at).
_SIGNED: TTLCache[tuple[str, str, str, str, int], tuple[str, int]] = TTLCache(maxsize=16384, ttl=TOKEN_REUSE_SECONDS)


async def sign_directory(state: OriginState, asset: Asset, prefix: str, bound_to: str, user: str) -> str:
    """A prefix token for ``prefix`` (one of the asset's directories) bound to ``bound_to`` and ``user``."""
    if not prefix.startswith(f"{asset.tenant_id}/") or not prefix.endswith("/"):
        raise HTTPError(500, "refusing to sign a directory outside the tenant's prefix")
    lifetime = parse_duration(state.settings.media.stream_url_ttl)
    if asset.duration:
        lifetime = max(lifetime, int(asset.duration * 2 + 0.999))
    lifetime = min(lifetime, parse_duration(state.settings.tokens.max_expires_in))
    key = await state.keys.active()
    now = int(time.time())
    remembered = (key.kid, prefix, bound_to, user, lifetime)
    signed = _SIGNED.get(remembered)
    if signed is not None and now - signed[1] < min(TOKEN_REUSE_SECONDS, lifetime // 10):
        return signed[0]
    token = sign_token(
        key,
        tenant_id=asset.tenant_id,
        path=prefix,
        expires_at=now + lifetime,
        scope="prefix",
        asset_id=bound_to,
        user_id=user,
        now=now,
    )
    await state.keys.note_expiry(key.kid, now + lifetime)
    _SIGNED[remembered] = (token, now)
    return token


def edge_url(state: OriginState, token: str, key: str) -> str:
    return f"{state.settings.edge.url}/{token}/{key}"


async def stream_of(state: OriginState, asset: Asset) -> StreamRecord:
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    if stream is None or not stream.output_prefix:
        raise HTTPError(404, "The asset has no stream", "media.no_stream")
    return stream


def stream_variants(stream: StreamRecord) -> list[str]:
    """Names of the stream's renditions that are made (``360p``, ``audio-128k``, …): a stream being made
    lists each rendition with its status, and one that failed for good has no playlist."""
    renditions = stream.outputs.get("renditions") if isinstance(stream.outputs, dict) else None
    return [
        str(r["name"])
        for r in renditions or []
        if isinstance(r, dict) and r.get("name") and r.get("status", "ready") == "ready"
    ]


async def stream_url(state: OriginState, asset: Asset, protocol: str, variant: str, user: str) -> str:
    """The edge URL of a playlist: HLS ``master`` or a rendition's ``index.m3u8``; DASH the MPD.

    409 ``media.transcoding`` until the asset is ready, 451 ``media.quarantined``.
    """
    require_ready(asset)
    stream = await stream_of(state, asset)
    assert stream.output_prefix is not None
    names = stream_variants(stream)
    if protocol == "hls":
        if variant == "master":
            path = "master.m3u8"
        elif variant in names:
            path = f"{variant}/index.m3u8"
        else:
            raise HTTPError(
                404, f"No variant {variant!r}; the stream has master, {', '.join(names)}", "media.variant_not_found"
            )
    else:
        if variant not in ("master", "manifest"):
            raise HTTPError(
                404,
                f"No DASH variant {variant!r}; the stream's MPD is 'master' (every rendition)",
                "media.variant_not_found",
            )
        path = "manifest.mpd"
    token = await sign_directory(state, asset, stream.output_prefix, stream.id, user)
    return edge_url(state, token, stream.output_prefix + path)


async def asset_object(state: OriginState, key: str) -> Served | None:
    """Backend, size and policy headers of an object in a ready asset's variants or captions directory."""
    for suffix in _SUFFIXES:
        at = key.find(suffix)
        if at > 0:
            break
    else:
        return None
    record = await state.store.files.by_key(key[:at])
    if record is None or record.status != "ready":
        return None
    asset = await state.store.assets.get(record.tenant_id, record.id)
    if asset is None or asset.status != Status.READY:
        return None
    return await derived_object(
        state,
        key,
        tenant_id=record.tenant_id,
        bucket=record.bucket,
        file_id=record.id,
        asset_id=asset.id,
        signed=not asset.is_public,
        cache_control=f"{'public' if asset.is_public else 'private'}, max-age={MAX_AGE}",
    )


async def directory_url(state: OriginState, asset: Asset, suffix: str, user: str) -> str | None:
    """A signed edge URL of one of a ready asset's directories (``…/``; append a file name), or None."""
    if asset.status != Status.READY or not asset.file_id:
        return None
    record = await state.store.files.get(asset.file_id)
    if record is None or record.status != "ready":
        return None
    prefix = record.key + suffix
    token = await sign_directory(state, asset, prefix, asset.id, user)
    return edge_url(state, token, prefix)
