"""The edge's cache layer: memory tier, disk tier and the origin client behind them.

Use :class:`EdgeCache` (``start``/``close``, ``lookup``, ``read``, ``read_fast``, ``purge``, ``stats``,
``histogram``) with an :class:`OriginClient`. See :mod:`edge.cache.cache` for the behaviour.
"""

from edge.cache.cache import EdgeCache
from edge.cache.errors import ObjectChanged, ObjectNotFound, OriginError
from edge.cache.meta import ObjectMeta
from edge.cache.origin import OriginClient

__all__ = ["EdgeCache", "ObjectChanged", "ObjectMeta", "ObjectNotFound", "OriginClient", "OriginError"]
