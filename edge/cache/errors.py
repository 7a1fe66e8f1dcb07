"""What the cache raises. Each error is an :class:`~mediaedge.errors.HTTPError`, so an app that lets
it propagate answers with the right status and the seed's error body."""

from __future__ import annotations

from mediaedge.errors import HTTPError

__all__ = ["ObjectChanged", "ObjectNotFound", "OriginError"]


class OriginError(HTTPError):
    """The origin is unreachable, answered 5xx or something unusable, and nothing stale can stand in."""

    def __init__(self, message: str = "Origin unavailable") -> None:
        super().__init__(502, message)


class ObjectChanged(OriginError):
    """The object got a new version while its bytes were being fetched; look it up again."""

    def __init__(self, message: str = "Object changed at the origin") -> None:
        super().__init__(message)


class ObjectNotFound(HTTPError):
    """The origin answered 404 for the key (remembered for a few seconds)."""

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(404, message)
