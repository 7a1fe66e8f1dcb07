"""The edge's cache layer: a slice store (memory tier, disk tier, the origin behind them) and the two
lookup policies in front of it, pingora's seam.

:class:`~edge.cache.store.SliceStore` keeps metas and slice bytes of exact versions (read, fill,
purge). :class:`EdgeCache` (:mod:`edge.cache.objects`) looks up the origin's objects for the default
zone; :class:`PullCache` (:mod:`edge.cache.pull`) is a pull zone's RFC 9111 shared cache. The edge
depends on them through :mod:`edge.protocols`.
"""

from edge.cache.errors import ObjectChanged, ObjectNotFound, OriginError
from edge.cache.meta import ObjectMeta
from edge.cache.objects import EdgeCache
from edge.cache.origin import OriginClient, UpstreamClient
from edge.cache.pull import PullCache

__all__ = [
    "EdgeCache",
    "ObjectChanged",
    "ObjectMeta",
    "ObjectNotFound",
    "OriginClient",
    "OriginError",
    "PullCache",
    "UpstreamClient",
]
