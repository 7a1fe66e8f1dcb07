"""Captions and transcripts of media assets: storing caption files, and putting the approved ones in
the asset's HLS master playlist and DASH MPD.

A caption is stored as WebVTT at ``{key}.captions/{language}.vtt`` beside the asset's file (served by
the edge with a token for that directory). When the asset has a stream, every approved caption is
also published into the stream's output directory (segments, media playlist and the whole file,
see :mod:`origin.media.captions`) and the master playlist and MPD are rewritten to list exactly
those; that happens when a caption changes and when a stream becomes ready.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from mediaedge.ai.transcripts import Cue
from mediaedge.errors import HTTPError
from mediaedge.storage import ObjectNotFound, StorageBackend, StorageError
from origin.media.assets import require_not_quarantined
from origin.media.captions import (
    Track,
    language_label,
    master_with_subtitles,
    mpd_with_subtitles,
    parse_captions,
    plain_text,
    segment_files,
    subtitle_playlist,
    webvtt_document,
)
from origin.media.delivery import CAPTIONS_SUFFIX
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Caption, FileRecord, Tenant
from origin.store.streams import StreamRecord

log = logging.getLogger("mediaedge.origin.media")

MASTER = "master.m3u8"
MPD = "manifest.mpd"
SUBS_DIR = "subs/"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _read(backend: StorageBackend, key: str) -> bytes:
    return b"".join([chunk async for chunk in backend.open_range(key)])


async def _source(state: OriginState, tenant: Tenant, asset: Asset) -> tuple[FileRecord, StorageBackend]:
    record = await state.store.files.get(asset.file_id) if asset.file_id else None
    if record is None:
        raise HTTPError(409, "The asset has no uploaded file yet; finalize it first", "media.not_uploaded")
    bucket = await state.store.buckets.get(tenant.id, record.bucket)
    if bucket is None:
        raise HTTPError(500, f"bucket {record.bucket} is gone")
    return record, state.backend(bucket)


async def add_caption(
    state: OriginState,
    tenant: Tenant,
    asset: Asset,
    language: str,
    content: str,
    *,
    approved: bool = True,
    source: str = "manual",
    label: str | None = None,
) -> Caption:
    """Store a WebVTT or SRT caption (validated; 400 with the bad line) for ``language``, replacing the
    earlier caption of that language and source."""
    require_not_quarantined(asset)
    if asset.kind not in ("video", "audio"):
        raise HTTPError(409, f"An {asset.kind} asset has no captions", "media.captions_unsupported")
    parsed = parse_captions(content)
    record, backend = await _source(state, tenant, asset)
    key = f"{record.key}{CAPTIONS_SUFFIX}{language}{'' if source == 'manual' else '.' + source}.vtt"
    try:
        await backend.write(key, _one(parsed.to_webvtt().encode()), "text/vtt")
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    label = label or language_label(language)
    existing = next(
        (c for c in await state.store.captions.list(asset.id) if c.language == language and c.source == source), None
    )
    if existing is not None:
        caption = await state.store.captions.update(
            asset.id, existing.id, label=label, format="vtt", key=key, approved=approved
        )
    else:
        caption = await state.store.captions.add(
            asset.id, language=language, label=label, format="vtt", key=key, approved=approved, source=source
        )
    assert caption is not None
    await purge_edges(state, [key])
    await publish_for_asset(state, asset)
    return caption


async def language_captions(state: OriginState, asset: Asset, language: str, source: str | None) -> list[Caption]:
    """The asset's captions of ``language`` (and ``source`` when given); 404 ``media.caption_not_found``."""
    found = [
        c
        for c in await state.store.captions.list(asset.id)
        if c.language == language and (source is None or c.source == source)
    ]
    if not found:
        which = f"{language} ({source})" if source else language
        raise HTTPError(404, f"The asset has no {which} caption", "media.caption_not_found")
    return found


async def approve_captions(
    state: OriginState, asset: Asset, language: str, approved: bool, source: str | None = None
) -> list[Caption]:
    """Approve (or withdraw) the captions of ``language``: approved ones are in the stream's
    manifests, the others are not (the manifests are rewritten and the edges purged)."""
    require_not_quarantined(asset)
    changed = []
    for caption in await language_captions(state, asset, language, source):
        updated = await state.store.captions.update(asset.id, caption.id, approved=approved)
        changed.append(updated or caption)
    await publish_for_asset(state, asset)
    return changed


async def delete_captions(
    state: OriginState, tenant: Tenant, asset: Asset, language: str, source: str | None = None
) -> None:
    """Remove the captions of ``language``: their files, their rows, and their tracks from the stream's
    manifests; the edges forget all of it."""
    require_not_quarantined(asset)
    captions = await language_captions(state, asset, language, source)
    _, backend = await _source(state, tenant, asset)
    try:
        for caption in captions:
            await backend.delete(caption.key)
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    for caption in captions:
        await state.store.captions.delete(asset.id, caption.id)
    await purge_edges(state, [c.key for c in captions])
    await publish_for_asset(state, asset)


async def caption_cues(state: OriginState, tenant: Tenant, asset: Asset, caption: Caption) -> tuple[Cue, ...]:
    _, backend = await _source(state, tenant, asset)
    try:
        return parse_captions((await _read(backend, caption.key)).decode("utf-8", "replace")).cues
    except ObjectNotFound:
        raise HTTPError(404, "The caption file is missing from storage", "media.caption_missing") from None


async def transcript_of(
    state: OriginState, tenant: Tenant, asset: Asset, language: str | None
) -> tuple[str, str, list[Cue], str] | None:
    """``(language, text, cues, source)``: the stored transcript, else one read from the captions
    (approved ones first); None when the asset has neither in that language."""
    stored = await state.store.transcripts.get(asset.id, language)
    if stored is not None:
        cues = [Cue(float(c["start"]), float(c["end"]), str(c["text"])) for c in stored.cues or []]
        return stored.language, stored.text, cues, "transcript"
    captions = [c for c in await state.store.captions.list(asset.id) if language is None or c.language == language]
    if not captions:
        return None
    caption = sorted(captions, key=lambda c: (not c.approved, c.source != "manual", c.created_at))[0]
    cues = [Cue(c.start, c.end, plain_text(c.text)) for c in await caption_cues(state, tenant, asset, caption)]
    return caption.language, " ".join(c.text for c in cues), cues, "captions"


# -- the stream's manifests ------------------------------------------------------------------------


async def publish_for_asset(state: OriginState, asset: Asset) -> None:
    """Put the asset's approved captions into its stream, when the stream is ready."""
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    if stream is not None and stream.status == "ready":
        await publish_captions(state, stream)


async def publish_captions(state: OriginState, stream: StreamRecord) -> None:
    """Write the approved captions of the stream's asset into its output directory and rewrite the
    master playlist and MPD to list exactly those. Called before a stream turns ready, too."""
    if not stream.output_prefix or not stream.bucket or not stream.source_file_id:
        return
    asset = await state.store.assets.by_file(stream.source_file_id)
    bucket = await state.store.buckets.get(stream.tenant_id, stream.bucket)
    if asset is None or bucket is None:
        return
    backend = state.backend(bucket)
    prefix = stream.output_prefix
    captions = sorted(
        (c for c in await state.store.captions.list(asset.id) if c.approved),
        key=lambda c: (c.language, c.source != "manual"),
    )
    tracks: list[Track] = []
    written: set[str] = set()
    duration = stream.duration or asset.duration or 0.0
    for caption in captions:
        if any(t.language == caption.language for t in tracks):
            continue  # one track per language: the manual caption wins over a generated one
        try:
            cues = parse_captions((await _read(backend, caption.key)).decode("utf-8", "replace")).cues
        except (ObjectNotFound, HTTPError) as exc:
            log.warning("caption %s of %s not published: %s", caption.id, asset.id, exc)
            continue
        track = Track(caption.language, caption.label or language_label(caption.language), default=not tracks)
        directory = prefix + track.directory
        segments = segment_files(cues, duration)
        for name, _, document in segments:
            written.add(await _put(backend, directory + name, document, "text/vtt"))
        written.add(await _put(backend, directory + "captions.vtt", webvtt_document(cues), "text/vtt"))
        written.add(
            await _put(backend, directory + "index.m3u8", subtitle_playlist(segments), "application/vnd.apple.mpegurl")
        )
        tracks.append(track)
    stale = [info.key async for info in backend.list(prefix + SUBS_DIR) if info.key not in written]
    for key in stale:
        await backend.delete(key)
    for name, rewrite, content_type in (
        (MASTER, master_with_subtitles, "application/vnd.apple.mpegurl"),
        (MPD, mpd_with_subtitles, "application/dash+xml"),
    ):
        try:
            current = (await _read(backend, prefix + name)).decode()
        except ObjectNotFound:
            continue
        await _put(backend, prefix + name, rewrite(current, tracks), content_type)
    await purge_edges(state, [prefix + MASTER, prefix + MPD], [prefix + SUBS_DIR])


async def _put(backend: StorageBackend, key: str, text: str, content_type: str) -> str:
    await backend.write(key, _one(text.encode()), content_type)
    return key
