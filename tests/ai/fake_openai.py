"""A local stand-in for four documented OpenAI API endpoints, doing the work for real on this machine.

- ``POST /v1/audio/transcriptions`` (multipart ``file``, ``model``, ``language``, ``response_format``
  ``json``/``text``/``verbose_json``/``vtt``, ``timestamp_granularities[]``): recognised with PocketSphinx;
- ``POST /v1/audio/speech`` (JSON ``model``, ``input``, ``voice``, ``response_format`` ``wav``): spoken by espeak-ng;
- ``POST /v1/images/generations`` (JSON ``prompt``, ``size``, ``response_format`` ``b64_json``): a PNG
  of the requested size drawn by ffmpeg;
- ``POST /v1/moderations`` (JSON ``input``): flags inputs holding a word of :data:`FLAGGED`.

Errors are OpenAI's bodies (``{"error": {"message", "type", "param", "code"}}``) with its statuses:
401 for a wrong bearer key, 400 for a missing or invalid parameter. ``fail_next`` holds statuses to
answer before doing any work (503, 429 … to exercise retries); ``requests`` logs every call.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediaedge_ai_pocketsphinx import PocketSphinxProvider, PocketSphinxSettings
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mediaedge.ffmpeg import ffmpeg_exe

API_KEY = "sk-fake-0123456789"  # noqa: S105 - the fake's credential
VOICES = {"alloy": "en-us+klatt", "echo": "en-gb"}
SIZES = {"256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"}
FLAGGED = {"kill": "violence", "bomb": "violence", "hate": "hate"}


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def error(
    status: int, message: str, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status)


@dataclass
class FakeOpenAI:
    fail_next: list[int] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, fields)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/audio/transcriptions", self._wrap(self.transcriptions), methods=["POST"]),
                Route("/v1/audio/speech", self._wrap(self.speech), methods=["POST"]),
                Route("/v1/images/generations", self._wrap(self.images), methods=["POST"]),
                Route("/v1/moderations", self._wrap(self.moderations), methods=["POST"]),
            ]
        )

    def _wrap(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return error(401, "Incorrect API key provided.", code="invalid_api_key")
            if self.fail_next:
                status = self.fail_next.pop(0)
                response = error(status, "The server is overloaded, try again later.", "server_error")
                if status == 429:
                    response.headers["Retry-After"] = "0"
                return response
            try:
                return await handler(request)
            except BadRequest as exc:
                return error(400, str(exc), param=exc.param)

        return endpoint

    async def _json(self, request: Request, path: str, *required: str) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("We could not parse the JSON body of your request.") from None
        self.requests.append((path, body))
        for name in required:
            if not body.get(name):
                raise BadRequest(f"Missing required parameter: '{name}'.", name)
        return dict(body)

    async def transcriptions(self, request: Request) -> Response:
        async with request.form() as form:
            upload = form.get("file")
            fields = {k: form.getlist(k) if k.endswith("[]") else form[k] for k in form if k != "file"}
            self.requests.append(("/v1/audio/transcriptions", fields))
            if not isinstance(upload, UploadFile):
                raise BadRequest("Missing required parameter: 'file'.", "file")
            if not fields.get("model"):
                raise BadRequest("Missing required parameter: 'model'.", "model")
            fmt = fields.get("response_format", "json")
            if fmt not in ("json", "text", "verbose_json", "vtt"):
                raise BadRequest(f"Invalid response_format: {fmt}", "response_format")
            language = str(fields.get("language") or "en")
            if language != "en":
                raise BadRequest(f"Language {language!r} is not supported by this fake.", "language")
            with tempfile.TemporaryDirectory() as tmp:
                media = Path(tmp) / Path(upload.filename or "upload").name
                media.write_bytes(await upload.read())
                recogniser = PocketSphinxProvider(PocketSphinxSettings(workers=1))
                transcript = await recogniser.transcribe(media, language, work_dir=Path(tmp))
        if fmt == "vtt":
            return PlainTextResponse(transcript.to_webvtt(), media_type="text/vtt")
        if fmt == "text":
            return PlainTextResponse(transcript.text)
        if fmt == "json":
            return JSONResponse({"text": transcript.text})
        body: dict[str, Any] = {
            "task": "transcribe",
            "language": "english",
            "text": transcript.text,
            "duration": transcript.cues[-1].end if transcript.cues else 0.0,
            "segments": [
                {"id": i, "start": c.start, "end": c.end, "text": c.text} for i, c in enumerate(transcript.cues)
            ],
        }
        if "word" in fields.get("timestamp_granularities[]", []):
            body["words"] = [{"word": w.text, "start": w.start, "end": w.end} for w in transcript.words]
        return JSONResponse(body)

    async def speech(self, request: Request) -> Response:
        body = await self._json(request, "/v1/audio/speech", "model", "input", "voice")
        if body["voice"] not in VOICES:
            raise BadRequest(f"Invalid voice: {body['voice']}", "voice")
        if body.get("response_format", "mp3") != "wav":
            raise BadRequest("This fake answers response_format wav only.", "response_format")
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            command = ["espeak-ng", "-v", VOICES[body["voice"]], "-w", str(wav), "--stdin"]
            await asyncio.to_thread(subprocess.run, command, input=str(body["input"]).encode(), check=True)
            return Response(wav.read_bytes(), media_type="audio/wav")

    async def images(self, request: Request) -> Response:
        body = await self._json(request, "/v1/images/generations", "prompt")
        size = body.get("size", "1024x1024")
        if size not in SIZES:
            raise BadRequest(f"'{size}' is not one of {sorted(SIZES)} - 'size'", "size")
        if body.get("response_format") != "b64_json":
            raise BadRequest("This fake answers response_format b64_json only.", "response_format")
        png = await asyncio.to_thread(
            subprocess.run,
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"color=c=teal:s={size}",
                "-frames:v",
                "1",
                "-c:v",
                "png",
                "-f",
                "image2pipe",
                "-",
            ],
            capture_output=True,
            check=True,
        )
        return JSONResponse(
            {
                "created": 1,
                "data": [
                    {
                        "b64_json": base64.b64encode(png.stdout).decode(),
                        "revised_prompt": f"A picture of {body['prompt']}",
                    }
                ],
            }
        )

    async def moderations(self, request: Request) -> Response:
        body = await self._json(request, "/v1/moderations", "input")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = []
        for text in inputs:
            hits = {FLAGGED[w] for w in str(text).lower().split() if w in FLAGGED}
            categories = {name: name in hits for name in sorted(set(FLAGGED.values()))}
            results.append(
                {
                    "flagged": bool(hits),
                    "categories": categories,
                    "category_scores": {k: 0.99 if v else 0.01 for k, v in categories.items()},
                }
            )
        return JSONResponse({"id": "modr-1", "model": body.get("model", "omni-moderation-latest"), "results": results})
