"""Response headers prebuilt per cached object version, and the browser Cache-Control policy.

Cache-Control sent to browsers, by kind of file (:func:`edge.mime.cache_class`) and access:

============  ===========================================  ============================================
kind          public object                                signed object
============  ===========================================  ============================================
media         ``public, max-age=31536000, immutable``      ``private, max-age=31536000, immutable``
playlist      ``public, max-age=2``                        ``private, max-age=2``
other         ``public, max-age=3600``                     ``private, max-age=3600``
============  ===========================================  ============================================

Media files and segments never change under a key (a re-upload gets a new name); playlists of live
streams change every segment duration; ``private`` keeps signed bytes out of shared caches, whose
copies would outlive the token. The origin's own ``Cache-Control`` governs this edge's cache only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edge import mime
from edge.cache import ObjectMeta
from edge.conditional import http_date
from edge.lru import LRU

Headers = list[tuple[bytes, bytes]]

MAX_REPRESENTATIONS = 65_536

CACHE_CONTROL: dict[tuple[mime.CacheClass, bool], bytes] = {
    (mime.CacheClass.MEDIA, True): b"public, max-age=31536000, immutable",
    (mime.CacheClass.MEDIA, False): b"private, max-age=31536000, immutable",
    (mime.CacheClass.PLAYLIST, True): b"public, max-age=2",
    (mime.CacheClass.PLAYLIST, False): b"private, max-age=2",
    (mime.CacheClass.OTHER, True): b"public, max-age=3600",
    (mime.CacheClass.OTHER, False): b"private, max-age=3600",
}


def cache_control(key: str, public: bool) -> bytes:
    """The browser ``Cache-Control`` for ``key``."""
    return CACHE_CONTROL[mime.cache_class(key), public]


@dataclass(frozen=True, slots=True)
class Representation:
    """One object version with its header lists ready to send."""

    meta: ObjectMeta
    size: int
    etag: str
    last_modified: int
    content_type: bytes
    partial: Headers  # 206: add Content-Type, Content-Length (and Content-Range)
    full: Headers  # 200, and HEAD
    not_modified: Headers  # 304


def build(meta: ObjectMeta) -> Representation:
    """Prebuild the headers of ``meta``."""
    ctype = mime.content_type(meta.key, meta.content_type).encode("latin-1")
    validators: Headers = [
        (b"etag", meta.etag.encode("latin-1")),
        (b"last-modified", http_date(meta.last_modified).encode()),
        (b"cache-control", cache_control(meta.key, meta.access == "public")),
        (b"vary", b"Origin"),
    ]
    common = [
        *validators,
        (b"accept-ranges", b"bytes"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if mime.is_active(ctype.decode("latin-1")):
        common.append((b"content-security-policy", b"sandbox; default-src 'none'"))
    return Representation(
        meta=meta,
        size=meta.size,
        etag=meta.etag,
        last_modified=int(meta.last_modified),
        content_type=ctype,
        partial=common,
        full=[*common, (b"content-type", ctype), (b"content-length", b"%d" % meta.size)],
        not_modified=validators,
    )


class Representations:
    """Prebuilt representations by object version (``ObjectMeta`` is frozen and hashable), made by
    ``builder`` (:func:`build` by default)."""

    def __init__(
        self, maxsize: int = MAX_REPRESENTATIONS, builder: Callable[[ObjectMeta], Representation] = build
    ) -> None:
        self._built: LRU[ObjectMeta, Representation] = LRU(maxsize)
        self._build = builder

    def get(self, meta: ObjectMeta) -> Representation:
        rep = self._built.get(meta)
        if rep is None:
            rep = self._build(meta)
            self._built.put(meta, rep)
        return rep
