"""CORS for players on other origins.

Actual responses: a tenant without a domain whitelist gets ``Access-Control-Allow-Origin: *``; a
tenant with one gets the request's ``Origin`` reflected (the whitelist check has already passed by
then) and no CORS header for requests without ``Origin``. Object responses always carry
``Vary: Origin``. Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) get the same origin
decision plus the methods and headers players use. No credentials are ever allowed: tokens travel in
the URL, not in cookies.
"""

from __future__ import annotations

from mediaedge.whitelist import TenantPolicy

Headers = list[tuple[bytes, bytes]]

EXPOSE = (b"access-control-expose-headers", b"Content-Range, Content-Length, ETag, Accept-Ranges, Cache-Status")
ANY_ORIGIN: Headers = [(b"access-control-allow-origin", b"*"), EXPOSE]
PREFLIGHT: Headers = [
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"Range, If-None-Match, If-Modified-Since, If-Range, X-App-ID"),
    (b"access-control-max-age", b"86400"),
    (b"vary", b"Origin"),
]


def allow_origin(policy: TenantPolicy, origin: str | None) -> Headers:
    """CORS headers for a response the tenant's whitelist has already allowed."""
    if not policy.domains.restricted:
        return ANY_ORIGIN
    if origin and origin != "null":
        return [(b"access-control-allow-origin", origin.encode("latin-1")), EXPOSE]
    return []


def preflight(policy: TenantPolicy, origin: str | None) -> Headers:
    """Headers of a 204 preflight answer (the caller refuses non-whitelisted origins first)."""
    return [*allow_origin(policy, origin), *PREFLIGHT]
