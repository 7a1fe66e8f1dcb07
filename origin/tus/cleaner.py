"""The background service of TUS uploads: expire old ones, retry finished ones that failed to register.

Every ``tus.cleanup_interval`` seconds it deletes uploads past ``Upload-Expires`` with their bytes
(finished uploads waiting for registration excepted: their bytes are never dropped) and retries the
ingest of finished, unregistered uploads. It only takes free locks: a running request is never stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store import TusUpload
from origin.tus import uploads

log = logging.getLogger("mediaedge.origin.tus")

_Action = Callable[[OriginState, TusUpload, float], Awaitable[bool]]


async def tus_cleaner(state: OriginState) -> None:
    """Run :func:`sweep` forever (until cancelled at shutdown)."""
    while True:
        try:
            await sweep(state)
        except Exception:
            log.exception("tus: cleanup sweep failed")
        await asyncio.sleep(state.settings.tus.cleanup_interval)


async def sweep(state: OriginState, now: float | None = None) -> int:
    """One pass; returns how many uploads were deleted. ``now`` overrides the clock (tests)."""
    now = time.time() if now is None else now
    deleted = 0
    for upload in await state.store.uploads.expired(now):
        if await _with_free_lock(state, upload, now, _expire):
            deleted += 1
    for upload in await state.store.uploads.unregistered():
        await _with_free_lock(state, upload, now, _register)
    return deleted


async def _expire(state: OriginState, upload: TusUpload, now: float) -> bool:
    if upload.expires_at >= now or upload.needs_ingest:  # a PATCH refreshed it meanwhile
        return False
    await uploads.remove(state, upload)
    log.info("tus: expired upload %s deleted", upload.id)
    return True


async def _register(state: OriginState, upload: TusUpload, now: float) -> bool:
    tenant = await state.store.tenants.get(upload.tenant_id)
    if tenant is None or not upload.needs_ingest:
        return False
    try:
        await uploads.finish(state, tenant, upload)
    except HTTPError as exc:
        log.warning("tus: upload %s is complete but could not be registered: %s", upload.id, exc.message)
        return False
    log.info("tus: upload %s registered on retry", upload.id)
    return True


async def _with_free_lock(state: OriginState, upload: TusUpload, now: float, action: _Action) -> bool:
    try:
        async with uploads.locked(state, upload.id, interrupt=False, wait=0) as (current, _held):
            return await action(state, current, now)
    except HTTPError:  # taken by a request (423) or gone (404): next time
        return False
