"""The transcoding price of a ladder: ``videos.prices`` (per minute, by quality) × the duration.

``is_enough`` compares the price with the tenant's credit (``store.credits``); a tenant without a
credit has no limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediaedge.errors import HTTPError
from origin.state import OriginState
from origin.store import Tenant

#: The price table's key for audio-only qualities.
AUDIO = "audio"


@dataclass(frozen=True)
class Cost:
    price: float
    is_enough: bool


def transcode_price(prices: dict[str, float], qualities: list[str], duration: float) -> float:
    """The price of encoding ``duration`` seconds into ``qualities``; 400 for a quality without a price."""
    if not qualities:
        raise HTTPError(400, "qualities must name at least one quality", "COST_INVALID")
    if duration <= 0:
        raise HTTPError(400, "duration must be a positive number of seconds", "COST_INVALID")
    unknown = [q for q in qualities if q not in prices]
    if unknown:
        raise HTTPError(400, f"qualities: {unknown[0]!r} has no price (allowed: {', '.join(prices)})", "COST_INVALID")
    return round(sum(prices[q] for q in qualities) * duration / 60, 6)


async def transcode_cost(state: OriginState, tenant: Tenant, qualities: list[str], duration: float) -> Cost:
    price = transcode_price(state.settings.videos.prices, qualities, duration)
    credit = await state.store.credits.get(tenant.id)
    return Cost(price, credit is None or credit >= price)
