"""One request at a time per upload, as tusd's lock docs describe.

Every request on an upload (PATCH, HEAD, DELETE, completion, the cleaner) holds its lock. A request
that finds the lock taken asks the holder to stop: a running PATCH then saves what it has received,
answers, and lets go; the newcomer proceeds. If the lock is not free within ``tus.lock_timeout`` the
newcomer answers 423 Locked. Two layers:

- in this process, an :class:`asyncio.Lock` per upload and the holder's ``stop`` event;
- across processes, a lease in the database (``lock_owner``/``lock_until``) that the holder renews while
  it works; a request in another process sets ``release_requested``, which fails the holder's next
  renewal and so stops it. A crashed process's lease simply runs out after ``tus.lock_lease`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from mediaedge.errors import HTTPError
from origin.store import Store, TusUpload

#: Identifies this process in ``lock_owner`` (each holder appends a random suffix).
PROCESS_OWNER = f"{socket.gethostname()}:{os.getpid()}"
#: How often a request waiting for another process's lease looks again.
LEASE_POLL = 0.05


@dataclass
class HeldLock:
    upload: TusUpload  # as it was when the lease was taken
    owner: str
    lease: float
    #: Set when another request wants this upload: finish up and release.
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def renew(self, store: Store) -> bool:
        """Extend the lease; on failure (lost, or asked for by another process) sets ``stop``."""
        if not await store.uploads.renew_lease(self.upload.id, self.owner, self.lease):
            self.stop.set()
        return not self.stop.is_set()


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    holder: HeldLock | None = None


_slots: dict[str, _Slot] = {}


def _locked(upload_id: str) -> HTTPError:
    return HTTPError(423, f"Upload {upload_id} is locked by another request", "UPLOAD_LOCKED")


@contextlib.asynccontextmanager
async def upload_lock(
    store: Store, upload_id: str, *, wait: float, lease: float, interrupt: bool = True
) -> AsyncIterator[HeldLock]:
    """Hold the upload's lock. ``interrupt=False`` (the cleaner) never asks a holder to stop.

    Raises 423 after waiting ``wait`` seconds, 404 if the upload vanished meanwhile.
    """
    slot = _slots.setdefault(upload_id, _Slot())
    slot.users += 1
    try:
        held = await _acquire(store, slot, upload_id, wait, lease, interrupt)
        try:
            yield held
        finally:
            slot.holder = None
            try:
                await store.uploads.release_lease(upload_id, held.owner)
            finally:
                slot.lock.release()
    finally:
        slot.users -= 1
        if not slot.users:
            _slots.pop(upload_id, None)


async def _acquire(store: Store, slot: _Slot, upload_id: str, wait: float, lease: float, interrupt: bool) -> HeldLock:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    if interrupt and slot.holder is not None:
        slot.holder.stop.set()
    try:
        async with asyncio.timeout(wait):
            await slot.lock.acquire()
    except TimeoutError:
        raise _locked(upload_id) from None
    try:
        owner = f"{PROCESS_OWNER}:{secrets.token_hex(4)}"
        asked = False
        while (upload := await store.uploads.take_lease(upload_id, owner, lease)) is None:
            if await store.uploads.get(upload_id) is None:
                raise HTTPError(404, "Upload not found", "UPLOAD_NOT_FOUND")
            if loop.time() >= deadline:
                raise _locked(upload_id)
            if interrupt and not asked:
                await store.uploads.request_release(upload_id)
                asked = True
            await asyncio.sleep(LEASE_POLL)
    except BaseException:
        slot.lock.release()
        raise
    held = HeldLock(upload, owner, lease)
    if slot.users > 1:  # a newer request is already waiting: the newest one wins, as with tusd
        held.stop.set()
    slot.holder = held
    return held
