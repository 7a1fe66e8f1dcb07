"""``103 Early Hints`` (RFC 8297) as HTTP/1.1 servers send them for ASGI's early-hint extension.

An app whose scope offers the :data:`EARLY_HINT` extension may send ``{"type": EARLY_HINT, "links":
[bytes, ...]}`` before ``http.response.start``; the server writes :func:`head` of the links, each a
``Link`` field, to an HTTP/1.1 client (a server never sends a 1xx to an HTTP/1.0 one, RFC 9110 §15.2).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["EARLY_HINT", "head"]

EARLY_HINT = "http.response.early_hint"


def head(links: Iterable[bytes]) -> bytes:
    """The ``103 Early Hints`` head with these ``Link`` values; ``ValueError`` for a value holding CR,
    LF or NUL (it would end the field, and the response, early)."""
    fields = []
    for link in links:
        if any(c in link for c in b"\r\n\0"):
            raise ValueError("a Link value of an early hint holds CR, LF or NUL")
        fields.append(b"link: %s\r\n" % link)
    return b"HTTP/1.1 103 Early Hints\r\n%s\r\n" % b"".join(fields)
