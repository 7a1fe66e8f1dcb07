"""Per-user rate limits of the media API (``media.upload_url_rate``, ``media.caption_rate`` per
``media.rate_window`` seconds).

Counters live in the metadata DB (``store.rate_limits``), so every origin process shares them. The
user is the caller's ``X-User-Id`` when given, else the API key. A refused request answers 429
``rate.limited`` with ``Retry-After`` and the ``RateLimit-Limit`` / ``RateLimit-Remaining`` /
``RateLimit-Reset`` headers; allowed answers carry the ``RateLimit-*`` headers too.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store import Conn, RateDecision


@dataclass(frozen=True)
class Limit:
    """One limited action of one user: ``limit`` per ``media.rate_window`` seconds."""

    action: str
    tenant_id: str
    user: str
    limit: int


def rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_after),
    }


async def enforce(state: OriginState, action: str, tenant_id: str, user: str, limit: int) -> dict[str, str]:
    """Count one ``action`` (``upload-url``, ``caption``, …) by ``user`` of ``tenant_id``; the headers to
    answer with, or 429 ``rate.limited``."""
    return await count(state, Limit(action, tenant_id, user, limit))


async def count(state: OriginState, limit: Limit, conn: Conn | None = None) -> dict[str, str]:
    """:func:`enforce` for ``limit``; on ``conn`` it counts in that transaction (a refusal raised
    inside it rolls the count back with the rest, which leaves a user at the limit refused all the same)."""
    window = state.settings.media.rate_window
    name = f"media:{limit.action}:{limit.tenant_id}:{limit.user}"
    decision = await state.store.rate_limits.hit(name, limit.limit, window, conn=conn)
    headers = rate_headers(decision)
    if not decision.allowed:
        raise HTTPError(
            429,
            f"Rate limit of {limit.limit} {limit.action} requests per {window} s reached; retry "
            f"in {decision.reset_after} s",
            "rate.limited",
            headers={**headers, "Retry-After": str(decision.reset_after)},
        )
    return headers
