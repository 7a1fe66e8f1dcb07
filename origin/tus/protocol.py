"""The wire protocol of TUS 1.0.0: fixed headers, header parsing, upload URLs and byte ranges."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Iterator
from email.utils import formatdate
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mediaedge.errors import HTTPError
from mediaedge.settings import Settings

TUS_VERSION = "1.0.0"
TUS_HEADERS = {"Tus-Resumable": TUS_VERSION}
EXTENSIONS = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,concatenation"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
BASE_PATH = "/files"
#: ASGI scope key: the path the TUS server is mounted at when not :data:`BASE_PATH` (the dashboard's).
SCOPED_BASE_PATH = "mediaedge.tus_base"

Endpoint = Callable[[Request], Awaitable[Response]]


@contextlib.contextmanager
def errors_carry(headers: dict[str, str]) -> Iterator[None]:
    """An :class:`HTTPError` raised inside also carries ``headers`` (those it sets itself win)."""
    try:
        yield
    except HTTPError as exc:
        exc.headers = {**headers, **exc.headers}
        raise


def tus_endpoint(handler: Endpoint) -> Endpoint:
    """Every answer of ``handler``, errors included, carries ``Tus-Resumable``."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        with errors_carry(TUS_HEADERS):
            response = await handler(request)
        response.headers.update(TUS_HEADERS)
        return response

    return endpoint


def check_version(request: Request) -> None:
    """412 unless the client speaks our version (required on every request but OPTIONS and GET)."""
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise HTTPError(
            412, f"Tus-Resumable must be {TUS_VERSION}", "TUS_VERSION_UNSUPPORTED", {"Tus-Version": TUS_VERSION}
        )


def int_header(request: Request, name: str) -> int | None:
    """A non-negative integer header, None when absent; 400 when malformed."""
    value = request.headers.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise HTTPError(400, f"{name} must be a non-negative integer")
    return int(value)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def _first(value: str | None) -> str:
    """The client-side entry of a forwarded header a chain of proxies appended to."""
    return (value or "").split(",", 1)[0].strip()


def base_url(request: Request, settings: Settings) -> str:
    """Scheme and host clients reach us by: trusted X-Forwarded-*, else ``origin.public_url``, else Host."""
    if settings.origin.trust_forwarded and (host := _first(request.headers.get("x-forwarded-host"))):
        scheme = _first(request.headers.get("x-forwarded-proto")) or request.url.scheme
        return f"{scheme}://{host}"
    if settings.origin.public_url:
        return settings.origin.url
    return f"{request.url.scheme}://{request.url.netloc}"


def upload_url(request: Request, settings: Settings, upload_id: str) -> str:
    return f"{base_url(request, settings)}{request.scope.get(SCOPED_BASE_PATH, BASE_PATH)}/{upload_id}"


def upload_id_from_url(url: str) -> str | None:
    """The upload id an absolute or relative upload URL names (as Upload-Concat lists them)."""
    head, _, upload_id = urlsplit(url).path.rstrip("/").rpartition("/")
    return upload_id if head.endswith(BASE_PATH) and upload_id else None


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(start, end)`` a single-range ``Range`` header asks for; None to send it all.

    Multiple ranges and malformed headers are ignored (RFC 9110 allows that); 416 when unsatisfiable.
    """
    match = _RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if last and int(last) < start:
            return None
    else:  # suffix: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start > end or start >= size:
        raise HTTPError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end
