"""Calls to an OpenAI-compatible API, through mediaedge.net's SSRF-safe client.

The configured ``base_url`` (e.g. ``https://api.openai.com/v1`` or a self-hosted
``http://10.0.0.5:8000/v1``) is the operator's choice, so its host and port are reachable even when
private; every other address — a redirect elsewhere — is checked against ``net.allow`` as usual.

Answers map to :mod:`mediaedge.ai.errors`: 401/403 → :class:`NotConfigured` (``plugins.openai.api_key``);
408, 429, 5xx and network failures → :class:`AIUnavailable`, retried ``retries`` times with
exponential backoff (``Retry-After`` honoured up to 30 s); other 4xx → :class:`AIRejected` with the
server's ``error.message``. The API key is sent as a bearer token and never logged or echoed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from mediaedge.ai import AIRejected, AIUnavailable, NotConfigured
from mediaedge.net import NetError, NetPolicy, SafeClient

BACKOFF = 0.5
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str

    def json(self, what: str) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise AIUnavailable(f"{what}: the server's answer is not JSON") from None


def _allow_entry(base_url: str) -> str:
    url = httpx.URL(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"[{url.host}]:{port}" if ":" in url.host else f"{url.host}:{port}"


def _message(body: bytes) -> str:
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return body[:200].decode(errors="replace")
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error)[:300]


class OpenAIClient:
    def __init__(
        self, base_url: str, api_key: str, *, timeout: float, retries: int, max_bytes: int, allow: tuple[str, ...]
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.max_bytes = max_bytes
        self.policy = NetPolicy((*allow, _allow_entry(base_url)))

    async def post(self, path: str, what: str, **body: Any) -> Answer:
        """POST ``json=`` or ``data=``/``files=`` (multipart) to ``{base_url}{path}``, retrying transient failures."""
        request = httpx.Request("POST", self.base_url + path, **body)
        headers = {"Content-Type": request.headers["Content-Type"], "Accept": "application/json, */*"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        content = request.read()
        for attempt in range(self.retries + 1):
            try:
                return await self._once(path, headers, content, what)
            except AIUnavailable as exc:
                if attempt == self.retries:
                    raise
                await asyncio.sleep(exc.retry_after or BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    async def _once(self, path: str, headers: dict[str, str], content: bytes, what: str) -> Answer:
        try:
            async with (
                SafeClient(self.policy, timeout=self.timeout) as client,
                client.stream(
                    "POST", self.base_url + path, headers=headers, content=content, max_bytes=self.max_bytes
                ) as response,
            ):
                body = b"".join([chunk async for chunk in response.iter_bytes()])
        except NetError as exc:
            if exc.retryable:
                raise AIUnavailable(f"{what}: {exc}") from None
            raise AIRejected(f"{what}: {exc}") from None
        status = response.status_code
        if status < 400:
            return Answer(body, response.headers.get("content-type", ""))
        detail = f"{what}: HTTP {status}: {_message(body)}"
        if status in (401, 403):
            raise NotConfigured(f"{detail} (check plugins.openai.api_key)", "plugins.openai.api_key")
        if status in (408, 429) or status >= 500:
            retry_after = response.headers.get("retry-after", "")
            raise AIUnavailable(detail, min(float(retry_after), MAX_RETRY_AFTER) if retry_after.isdigit() else None)
        raise AIRejected(detail)
