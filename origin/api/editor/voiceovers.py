"""Voiceover recording over WebRTC: ``/api/voiceovers`` and ``/api/voiceovers/<id>``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.api.editor import schemas as s
from origin.api.editor.common import caller, flag
from origin.editor import voiceover
from origin.http import JSON, json_body
from origin.openapi import describe
from origin.state import get_state


@describe(request=s.EditorVoiceoverRequest, responses={200: s.EditorVoiceoverAnswer}, errors=(429,))
async def create(request: Request) -> JSON:
    """Open a voiceover: the WebRTC offer answered."""
    who = await caller(request)
    made, sdp = await voiceover.create(get_state(request), who, await json_body(request))
    return JSON({"id": made.id, "sdpAnswer": sdp, "iceCandidates": voiceover.answer_candidates(sdp)})


@describe(request=s.EditorVoiceoverStart, responses={200: s.EditorEmpty}, errors=(409,))
async def start(request: Request) -> JSON:
    """Start recording the voiceover."""
    who = await caller(request)
    await voiceover.start(who, request.path_params["id"], await json_body(request))
    return JSON({})


@describe(responses={200: s.EditorVoiceover})
async def show(request: Request) -> JSON:
    """A voiceover's connection and recording state."""
    who = await caller(request)
    return JSON(voiceover.status(who, request.path_params["id"]))


@describe(
    query={"keepRecording": {"type": "string", "enum": ["0", "1", "true", "false"]}},
    responses={200: s.EditorVoiceoverStopped},
)
async def stop(request: Request) -> JSON:
    """Close a voiceover (with ``keepRecording``: its recording becomes a media file)."""
    who = await caller(request)
    media_id = await voiceover.stop(
        get_state(request), who, request.path_params["id"], keep=flag(request, "keepRecording")
    )
    return JSON({"mediaFileId": media_id} if media_id else {})


routes: list[BaseRoute] = [
    Route("/api/voiceovers", create, methods=["POST"]),
    Route("/api/voiceovers/{id}", start, methods=["PUT"]),
    Route("/api/voiceovers/{id}", show, methods=["GET"]),
    Route("/api/voiceovers/{id}", stop, methods=["DELETE"]),
]
