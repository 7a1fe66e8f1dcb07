"""Error types and the one error body every tier answers with.

The seed's format: ``{"statusCode": 400, "message": "...", "error": "BadRequest"}`` plus a stable
machine ``code`` where the seed names one (``SIGNED_URL_REQUIRED``, ``JWT_REQUIRED``, ...).
"""

from __future__ import annotations

from http import HTTPStatus

import orjson

__all__ = ["HTTPError", "error_body", "error_name"]


# Names that differ between Python versions' phrase tables, or that HTTPStatus does not know.
_NAMES = {413: "PayloadTooLarge", 416: "RangeNotSatisfiable", 460: "ChecksumMismatch", 514: "UnsupportedMedia"}


def error_name(status: int) -> str:
    """``404`` → ``"NotFound"``: the seed's ``error`` field, the status phrase in PascalCase."""
    if status in _NAMES:
        return _NAMES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return "".join(word[:1].upper() + word[1:] for word in phrase.replace("-", " ").split())


def error_body(status: int, message: str, code: str | None = None) -> bytes:
    """Serialise the seed's error body."""
    body: dict[str, object] = {"statusCode": status, "message": message, "error": error_name(status)}
    if code:
        body["code"] = code
    return orjson.dumps(body)


class HTTPError(Exception):
    """An error that maps to an HTTP answer with the seed's body.

    Raise it anywhere in a request handler; the app's exception handler renders it.
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    def body(self) -> bytes:
        return error_body(self.status, self.message, self.code)


def bad_request(message: str, code: str | None = None) -> HTTPError:
    return HTTPError(400, message, code)


def not_found(message: str = "Not found", code: str | None = None) -> HTTPError:
    return HTTPError(404, message, code)
