"""Local stand-ins for the Cloudflare Stream and VdoCipher APIs, implementing their documented endpoints.

Each GET of a video moves it one step through the service's states, so polling reaches ``ready``.
A source URL containing ``broken`` ends in the service's error state; ``refused`` is answered 400.
``fail_next`` makes the next N requests answer 503 (to exercise retries).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CF_TOKEN = "cf-token"  # noqa: S105 - a fake's credential
CF_ACCOUNT = "acc123"
VDO_SECRET = "vdo-secret"  # noqa: S105 - a fake's credential


@dataclass
class FakeService:
    fail_next: int = 0
    requests: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, JSON body)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def _record(self, request: Request) -> Response | None:
        """Log the request; a 503 while ``fail_next`` lasts."""
        body = await request.json() if request.method in ("POST", "PUT") else None
        self.requests.append((request.method, request.url.path, body))
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"message": "temporarily unavailable"}, 503)
        return None


class FakeCloudflare(FakeService):
    STATES = ("downloading", "queued", "inprogress", "ready")

    @property
    def app(self) -> Starlette:
        base = "/client/v4/accounts/{account}/stream"
        return Starlette(
            routes=[
                Route(f"{base}/copy", self.copy, methods=["POST"]),
                Route(f"{base}/{{uid}}", self.video, methods=["GET", "DELETE"]),
            ]
        )

    @staticmethod
    def envelope(result: Any, status: int = 200, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
        return JSONResponse({"result": result, "success": status < 400, "errors": errors or [], "messages": []}, status)

    def _refuse(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {CF_TOKEN}":
            return self.envelope(None, 401, [{"code": 10000, "message": "Authentication error"}])
        if request.path_params["account"] != CF_ACCOUNT:
            return self.envelope(None, 403, [{"code": 10000, "message": "Unauthorized to access requested resource"}])
        return None

    async def copy(self, request: Request) -> Response:
        refused = await self._record(request) or self._refuse(request)
        if refused:
            return refused
        body = (await request.json()) or {}
        if not body.get("url") or "refused" in body["url"]:
            return self.envelope(None, 400, [{"code": 10005, "message": "Invalid URL"}])
        uid = secrets.token_hex(16)
        self.videos[uid] = {
            "uid": uid,
            "url": body["url"],
            "meta": body.get("meta"),
            "step": 0,
            "requireSignedURLs": body.get("requireSignedURLs", False),
        }
        return self.envelope(self._view(uid))

    async def video(self, request: Request) -> Response:
        refused = await self._record(request) or self._refuse(request)
        if refused:
            return refused
        uid = request.path_params["uid"]
        if uid not in self.videos:
            return self.envelope(None, 404, [{"code": 10003, "message": "Not Found"}])
        if request.method == "DELETE":
            del self.videos[uid]
            return Response(status_code=200)
        self.videos[uid]["step"] += 1
        return self.envelope(self._view(uid))

    def _view(self, uid: str) -> dict[str, Any]:
        video = self.videos[uid]
        broken = "broken" in video["url"]
        state = "error" if broken and video["step"] >= 2 else self.STATES[min(video["step"], len(self.STATES) - 1)]
        status: dict[str, Any] = {"state": state}
        if state == "inprogress":
            status["pctComplete"] = "50.000000"
        if state == "error":
            status.update(errorReasonCode="ERR_NON_VIDEO", errorReasonText="The file was not recognized as a video")
        ready = state == "ready"
        host = f"https://customer-test.cloudflarestream.com/{uid}"
        return {
            "uid": uid,
            "readyToStream": ready,
            "status": status,
            "meta": video["meta"],
            "requireSignedURLs": video["requireSignedURLs"],
            "thumbnail": f"{host}/thumbnails/thumbnail.jpg",
            "duration": 10.5 if ready else -1,
            "playback": {"hls": f"{host}/manifest/video.m3u8", "dash": f"{host}/manifest/video.mpd"},
        }


class FakeVdocipher(FakeService):
    STATES = ("Queued", "Processing", "ready")

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/videos/importUrl", self.import_url, methods=["PUT"]),
                Route("/api/videos/{video_id}", self.video, methods=["GET"]),
                Route("/api/videos", self.delete, methods=["DELETE"]),
            ]
        )

    async def _refuse(self, request: Request) -> Response | None:
        refused = await self._record(request)
        if refused:
            return refused
        if request.headers.get("authorization") != f"Apisecret {VDO_SECRET}":
            return JSONResponse({"message": "Invalid API secret"}, 401)
        return None

    async def import_url(self, request: Request) -> Response:
        if refused := await self._refuse(request):
            return refused
        body = await request.json()
        if not body.get("url") or not body.get("title") or "refused" in body["url"]:
            return JSONResponse({"message": "url and title are required"}, 400)
        video_id = secrets.token_hex(16)
        self.videos[video_id] = {"url": body["url"], "title": body["title"], "step": 0}
        return JSONResponse({"id": video_id, "title": body["title"], "status": "Queued"})

    async def video(self, request: Request) -> Response:
        if refused := await self._refuse(request):
            return refused
        video = self.videos.get(request.path_params["video_id"])
        if video is None:
            return JSONResponse({"message": "Video not found"}, 404)
        video["step"] += 1
        status = "Error" if "broken" in video["url"] else self.STATES[min(video["step"], len(self.STATES) - 1)]
        posters = [
            {"width": 854, "height": 480, "posterUrl": "https://cdn.vdocipher.test/poster/x.480.jpeg"},
            {"width": 427, "height": 240, "posterUrl": "https://cdn.vdocipher.test/poster/x.240.jpeg"},
        ]
        return JSONResponse(
            {
                "id": request.path_params["video_id"],
                "title": video["title"],
                "status": status,
                "length": 10 if status == "ready" else 0,
                "posters": posters if status == "ready" else [],
            }
        )

    async def delete(self, request: Request) -> Response:
        if refused := await self._refuse(request):
            return refused
        ids = request.query_params.get("videos", "").split(",")
        gone = [i for i in ids if self.videos.pop(i, None) is not None]
        return JSONResponse({"message": f"Successfully deleted {len(gone)} videos"})
