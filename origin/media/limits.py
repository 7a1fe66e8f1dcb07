"""Per-user rate limits of the media API (settings ``media.*_rate`` per ``media.rate_window`` seconds).

Counters live in the metadata DB (``store.rate_limits``), so every origin process shares them. The
user is the caller's ``X-User-Id`` when given, else the API key. A refused request answers 429
``rate.limited`` with ``Retry-After`` and the ``RateLimit-Limit`` / ``RateLimit-Remaining`` /
``RateLimit-Reset`` headers; allowed answers carry the ``RateLimit-*`` headers too.
"""

from __future__ import annotations

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store import RateDecision


def rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_after),
    }


async def enforce(state: OriginState, action: str, tenant_id: str, user: str, limit: int) -> dict[str, str]:
    """Count one ``action`` (``upload-url``, ``caption``, …) by ``user`` of ``tenant_id``; the headers to
    answer with, or 429 ``rate.limited``."""
    window = state.settings.media.rate_window
    decision = await state.store.rate_limits.hit(f"media:{action}:{tenant_id}:{user}", limit, window)
    headers = rate_headers(decision)
    if not decision.allowed:
        raise HTTPError(429, f"Rate limit of {limit} {action} requests per {window} s reached; retry in "
                             f"{decision.reset_after} s", "rate.limited",
                        headers={**headers, "Retry-After": str(decision.reset_after)})
    return headers
