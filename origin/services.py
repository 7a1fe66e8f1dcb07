"""Background services an origin API process runs beside its routes.

Each is ``async def service(state: OriginState) -> None``: it runs until cancelled at shutdown and
must survive its own errors (log and continue). Append new services to :func:`origin_services`.
"""

from __future__ import annotations

from origin.dispatcher import webhook_dispatcher
from origin.editor.sessions import session_sweeper
from origin.editor.voiceover import voiceover_keeper
from origin.retention import history_pruner
from origin.state import OriginState, Service
from origin.tus.cleaner import tus_cleaner
from origin.videos.parts import parts_cleaner


def origin_services(state: OriginState) -> list[Service]:
    """The services an origin API process starts (webhook dispatch, upload expiry, history retention,
    editor session expiry, editor voiceovers, expiry of abandoned video uploads)."""
    return [webhook_dispatcher, tus_cleaner, history_pruner, session_sweeper, voiceover_keeper, parts_cleaner]
