"""``GET /api/v1/media``: filters and cursor pages over a tenant's assets.

Pages are keyset pages, newest first: the opaque ``page[cursor]`` holds the (created_at, id) of the
last asset of the page before, and the next page is the assets strictly after it in that order. No
offset is scanned, and assets created while a client pages never shift or repeat what it sees.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import orjson

from mediaedge.errors import HTTPError
from origin.catalogue.status import Status, shown_as, vocabulary
from origin.media.scan import KINDS
from origin.state import OriginState
from origin.store import Asset, Tenant

DEFAULT_PAGE = 50
MAX_PAGE = 200
LISTED: list[Status] = [s for s in Status if s != Status.DELETED]


@dataclass(frozen=True)
class Query:
    kinds: list[str] | None
    statuses: list[Status]
    created_from: float | None
    created_to: float | None
    size: int
    after: tuple[float, str] | None


def _invalid(message: str, code: str = "validation.query.invalid") -> HTTPError:
    return HTTPError(400, message, code)


def _list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _statuses(words: list[str] | None) -> list[Status]:
    """The states the media API's words name (``transcoding`` is both processing and storing)."""
    if words is None:
        return LISTED
    found: set[Status] = set()
    for word in words:
        named = {s for s in LISTED if shown_as("media", s) == word}
        if not named:
            names = ", ".join(str(w) for w in vocabulary("media") if w != "deleted")
            raise _invalid(f"filter[status]: {word!r} is not one of {names}")
        found |= named
    return [s for s in LISTED if s in found]


def _time(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _invalid(f"{name}: expected an ISO 8601 time such as 2026-01-31T12:00:00Z") from None


def encode_cursor(asset: Asset) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([asset.created_at, asset.id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        created, asset_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(asset_id, str) or isinstance(created, bool) or not isinstance(created, int | float):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise _invalid("page[cursor] is not a cursor this API gave out", "validation.cursor.invalid") from None
    return float(created), asset_id


def parse_query(params: Mapping[str, str]) -> Query:
    kinds = _list(params.get("filter[kind]"))
    for kind in kinds or []:
        if kind not in KINDS:
            raise _invalid(f"filter[kind]: {kind!r} is not one of {', '.join(KINDS)}")
    size_text = params.get("page[size]")
    try:
        size = DEFAULT_PAGE if size_text is None else int(size_text)
    except ValueError:
        raise _invalid("page[size] must be an integer") from None
    if not 1 <= size <= MAX_PAGE:
        raise _invalid(f"page[size] must be between 1 and {MAX_PAGE}", "validation.page.size")
    cursor = params.get("page[cursor]")
    return Query(
        kinds=kinds,
        statuses=_statuses(_list(params.get("filter[status]"))),
        created_from=_time("filter[createdFrom]", params.get("filter[createdFrom]")),
        created_to=_time("filter[createdTo]", params.get("filter[createdTo]")),
        size=size,
        after=decode_cursor(cursor) if cursor else None,
    )


async def list_page(state: OriginState, tenant: Tenant, query: Query) -> tuple[list[Asset], str | None]:
    """One page and the cursor of the next (None on the last page)."""
    assets = await state.store.assets.seek(
        tenant.id,
        kinds=query.kinds,
        statuses=[str(s) for s in query.statuses],
        created_from=query.created_from,
        created_to=query.created_to,
        after=query.after,
        limit=query.size + 1,
    )
    more = len(assets) > query.size
    assets = assets[: query.size]
    return assets, encode_cursor(assets[-1]) if more and assets else None
