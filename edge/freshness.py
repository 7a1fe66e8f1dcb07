"""RFC 9111 arithmetic for pull zones, as pure functions: directives, storability, freshness, age,
and the RFC 9211 ``Cache-Status`` value. No I/O and no clock of its own (callers pass ``now``).

The edge is a *shared* cache: ``s-maxage`` and ``proxy-revalidate`` apply, ``private`` is never
stored. ``CDN-Cache-Control`` (RFC 9213), when present and a valid Structured Field dictionary,
replaces ``Cache-Control`` and ``Expires`` for the edge (:func:`targeted_directives`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import http_sf

from edge.cache.meta import StoredResponse
from edge.conditional import http_date, parse_http_date

__all__ = [
    "CACHEABLE_BY_DEFAULT",
    "HEURISTIC_CAP",
    "ClientRequest",
    "Directives",
    "cache_status",
    "current_age",
    "delta_seconds",
    "initial_age",
    "parse_directives",
    "response_directives",
    "stored_response",
    "targeted_directives",
    "usability",
]

#: RFC 9110 §15.1 / RFC 9111 §4.2.2: statuses that may get heuristic freshness.
CACHEABLE_BY_DEFAULT = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
#: Heuristic freshness: this fraction of the time since ``Last-Modified``, at most :data:`HEURISTIC_CAP`.
HEURISTIC_FRACTION = 0.1
HEURISTIC_CAP = 86400.0
#: RFC 9111 §1.2.2: delta-seconds beyond 2^31 are treated as 2^31.
MAX_DELTA = 2**31
#: Hop-by-hop fields (RFC 9110 §7.6.1), never stored nor forwarded; Connection may list more.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)
#: Fields a stored response does not keep: framing (recomputed per answer) and Age (recomputed).
_NOT_STORED = HOP_BY_HOP | {"content-length", "content-range", "age"}
#: Fields a 304 must not update in a stored response (RFC 9111 §3.2).
_NOT_UPDATED = _NOT_STORED | {"content-encoding", "content-type"}

Directives = dict[str, str | None]


def parse_directives(value: str) -> Directives:
    """``'max-age=60, no-cache="set-cookie", public'`` → ``{"max-age": "60", "no-cache": "set-cookie",
    "public": None}``. Names are lower-cased; a repeated directive keeps its first value."""
    found: Directives = {}
    for part in value.split(","):
        name, eq, arg = part.partition("=")
        name = name.strip().lower()
        if name and name not in found:
            found[name] = arg.strip().strip('"') if eq else None
    return found


def delta_seconds(value: str | None) -> int | None:
    """A delta-seconds argument (non-negative integer, capped at 2^31), or None if absent/invalid."""
    if value is None or not value.isdigit():
        return None
    return min(int(value), MAX_DELTA)


#: RFC 9213 §2.1: the Structured Field types of the directives the edge obeys in a targeted field.
_SF_INTEGER = frozenset({"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"})
_SF_TRUE = frozenset({"no-store", "must-revalidate", "proxy-revalidate", "public", "no-transform", "immutable"})
_SF_TRUE_OR_STRING = frozenset({"no-cache", "private"})  # bare, or a quoted list of field names


def targeted_directives(value: str) -> Directives | None:
    """``CDN-Cache-Control`` (RFC 9213) as directives, or None if it must be ignored as a whole.

    The field is a Structured Field Dictionary (RFC 9651, parsed by ``http-sf``): a value that does not
    parse, is empty, or gives a known directive a value of the wrong type (``max-age="60"``,
    ``max-age=1.5``, ``no-store=?0``, a negative age) makes the edge ignore the field entirely.
    Unknown directives and parameters are ignored.
    """
    try:
        members = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError):
        return None
    if not isinstance(members, dict) or not members:
        return None
    found: Directives = {}
    for name, member in members.items():
        item = member[0] if isinstance(member, tuple) else member  # (value, parameters): these are ignored
        if name in _SF_INTEGER:
            if type(item) is not int or item < 0:
                return None
            found[name] = str(min(item, MAX_DELTA))
        elif name in _SF_TRUE:
            if item is not True:
                return None
            found[name] = None
        elif name in _SF_TRUE_OR_STRING:
            if item is True:
                found[name] = None
            elif type(item) is str:
                found[name] = item
            else:
                return None
    return found


def response_directives(headers: Mapping[str, str]) -> tuple[Directives, bool]:
    """The directives the edge obeys, and whether they came from ``CDN-Cache-Control``: a valid one
    replaces ``Cache-Control`` (and ``Expires``) for the edge (RFC 9213 §2.2); an invalid one is
    ignored and ``Cache-Control`` applies."""
    targeted = headers.get("cdn-cache-control")
    if targeted is not None:
        directives = targeted_directives(targeted)
        if directives is not None:
            return directives, True
    return parse_directives(headers.get("cache-control", "")), False


def connection_fields(headers: Mapping[str, str]) -> frozenset[str]:
    """Hop-by-hop fields: the fixed set plus those named in ``Connection``."""
    return HOP_BY_HOP | {f.strip().lower() for f in headers.get("connection", "").split(",") if f.strip()}


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """What a client's GET/HEAD asks of the cache (RFC 9111 §5.2.1), and the fields forwarded upstream."""

    forward: tuple[tuple[str, str], ...] = ()  # end-to-end request fields sent upstream on a miss
    no_cache: bool = False  # no-cache, or Pragma: no-cache without Cache-Control
    no_store: bool = False
    max_age: int | None = None
    max_stale: float | None = None  # math.inf for a bare max-stale
    min_fresh: int = 0
    only_if_cached: bool = False
    authorization: bool = False

    @classmethod
    def of(cls, headers: Mapping[str, str], forward: tuple[tuple[str, str], ...] = ()) -> ClientRequest:
        """From the request's (lower-case) fields."""
        cc = headers.get("cache-control")
        d = parse_directives(cc) if cc is not None else {}
        no_cache = "no-cache" in d or (cc is None and "no-cache" in headers.get("pragma", "").lower())
        max_stale: float | None = None
        if "max-stale" in d:
            max_stale = math.inf if d["max-stale"] is None else delta_seconds(d["max-stale"])
        return cls(
            forward=forward,
            no_cache=no_cache,
            no_store="no-store" in d,
            max_age=delta_seconds(d.get("max-age")),
            max_stale=max_stale,
            min_fresh=delta_seconds(d.get("min-fresh")) or 0,
            only_if_cached="only-if-cached" in d,
            authorization="authorization" in headers,
        )

    def value(self, name: str) -> str:
        """The forwarded value of field ``name`` (comma-joined; ``""`` if absent), for Vary matching."""
        return ", ".join(v for n, v in self.forward if n == name)


def age_value(age_header: str | None) -> int:
    """The ``Age`` of a response (RFC 9111 §5.1): of a list (or several ``Age`` lines, joined) the
    first member only; a value that is not a non-negative integer is ignored (0)."""
    if age_header is None:
        return 0
    return delta_seconds(age_header.split(",", 1)[0].strip()) or 0


def initial_age(age_header: str | None, date: float | None, request_time: float, response_time: float) -> float:
    """RFC 9111 §4.2.3 ``corrected_initial_age`` of a response received at ``response_time``."""
    apparent = max(0.0, response_time - date) if date is not None else 0.0
    corrected = age_value(age_header) + (response_time - request_time)
    return max(apparent, corrected)


def current_age(stored: StoredResponse, fetched_at: float, now: float) -> float:
    """RFC 9111 §4.2.3 ``current_age``: initial age plus resident time."""
    return stored.initial_age + max(0.0, now - fetched_at)


def freshness_lifetime(
    d: Directives, headers: Mapping[str, str], status: int, now: float, targeted: bool = False
) -> tuple[float, bool]:
    """RFC 9111 §4.2.1: seconds fresh and whether the lifetime is heuristic.

    ``s-maxage``, else ``max-age``, else ``Expires`` − ``Date`` (an invalid ``Expires`` means already
    expired; not read when ``d`` is ``targeted``, from CDN-Cache-Control), else — only for a status
    cacheable by default with ``Last-Modified`` and no explicit expiry — 10 % of ``Date`` −
    ``Last-Modified``, at most :data:`HEURISTIC_CAP`; else 0.
    """
    for name in ("s-maxage", "max-age"):
        seconds = delta_seconds(d.get(name))
        if seconds is not None:
            return float(seconds), False
    date = _date(headers.get("date")) or now
    if "expires" in headers and not targeted:
        expires = _date(headers["expires"])
        return (max(0.0, expires - date) if expires is not None else 0.0), False
    last_modified = _date(headers.get("last-modified"))
    if status in CACHEABLE_BY_DEFAULT and last_modified is not None:
        return min(HEURISTIC_CAP, max(0.0, HEURISTIC_FRACTION * (date - last_modified))), True
    return 0.0, False


def _date(value: str | None) -> float | None:
    parsed = parse_http_date(value) if value else None
    return float(parsed) if parsed is not None else None


def not_storable(
    status: int, d: Directives, headers: Mapping[str, str], request: ClientRequest, targeted: bool = False
) -> str | None:
    """Why RFC 9111 §3 forbids storing this response for a GET at a shared cache, or None.

    Qualified ``private="..."`` is treated as unqualified (conservative); ``Vary: *`` is not stored
    (it could never be reused).
    """
    if request.no_store or "no-store" in d:
        return "no-store"
    if "private" in d:
        return "private"
    if request.authorization and not ({"public", "s-maxage", "must-revalidate"} & d.keys()):
        return "authorization"
    if "*" in _vary_names(headers):
        return "vary-star"
    explicit = {"public", "max-age", "s-maxage"} & d.keys() or ("expires" in headers and not targeted)
    if status not in CACHEABLE_BY_DEFAULT and not explicit:
        return "status"
    return None


def _vary_names(headers: Mapping[str, str]) -> list[str]:
    return sorted({n.strip().lower() for n in headers.get("vary", "").split(",") if n.strip()})


def field_map(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields as a dict with lower-case names, repeated fields joined with ``", "``."""
    found: dict[str, str] = {}
    for name, value in fields:
        name = name.lower()
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def variant_key(target: str, vary: tuple[tuple[str, str], ...]) -> str:
    """The cache key of a response to ``target`` that varies on ``vary`` (RFC 9111 §4.1 secondary key)."""
    return target if not vary else target + "#" + "\n".join(f"{n}:{v}" for n, v in vary)


def stored_response(
    status: int,
    fields: Iterable[tuple[str, str]],
    request: ClientRequest,
    request_time: float,
    response_time: float,
) -> StoredResponse:
    """What the cache keeps of a response to ``request`` (``stored=False`` with a ``reason`` if it must not)."""
    fields = [(n.lower(), v) for n, v in fields]
    headers = field_map(fields)
    d, targeted = response_directives(headers)
    lifetime, heuristic = freshness_lifetime(d, headers, status, response_time, targeted)
    drop = connection_fields(headers)
    kept = tuple((n, v) for n, v in fields if n not in drop and n not in _NOT_STORED)
    if "date" not in headers:  # RFC 9110 §6.6.1: a cache adds the time it received the response
        kept += (("date", http_date(response_time)),)
    reason = not_storable(status, d, headers, request, targeted)
    return StoredResponse(
        status=status,
        headers=kept,
        lifetime=lifetime,
        heuristic=heuristic,
        initial_age=initial_age(headers.get("age"), _date(headers.get("date")), request_time, response_time),
        no_cache="no-cache" in d,
        no_stale=bool({"must-revalidate", "proxy-revalidate", "s-maxage", "no-cache"} & d.keys()),
        swr=float(delta_seconds(d.get("stale-while-revalidate")) or 0),
        sie=float(delta_seconds(d.get("stale-if-error")) or 0),
        vary=tuple((name, request.value(name)) for name in _vary_names(headers)),
        stored=reason is None,
        reason=reason or "",
    )


def updated(
    stored: StoredResponse, fields: Iterable[tuple[str, str]], request_time: float, response_time: float
) -> StoredResponse:
    """``stored`` freshened by a 304 (RFC 9111 §4.3.4): the 304's fields replace stored ones (framing
    and Content-Type/Encoding excepted), then freshness is recomputed."""
    fields = [(n.lower(), v) for n, v in fields]
    drop = connection_fields(field_map(fields)) | _NOT_UPDATED
    fresh = [(n, v) for n, v in fields if n not in drop]
    names = {n for n, _ in fresh}
    merged = [*((n, v) for n, v in stored.headers if n not in names), *fresh]
    return stored_response(stored.status, merged, ClientRequest(forward=stored.vary), request_time, response_time)


def vary_matches(stored: StoredResponse, request: ClientRequest) -> bool:
    """RFC 9111 §4.1: the request's values of the stored response's Vary fields equal the original's."""
    return all(request.value(name) == value for name, value in stored.vary)


def usability(stored: StoredResponse, age: float, request: ClientRequest) -> str:
    """How a stored response may be used now (RFC 9111 §4, §5.2.1, RFC 5861):

    ``"fresh"`` — serve it; ``"swr"`` — serve it stale and revalidate in the background;
    ``"stale"`` — validate first (``"request"`` when the client's directives, not staleness, demand it).
    """
    if stored.no_cache:
        return "stale"
    if request.no_cache or (request.max_age is not None and age > request.max_age):
        return "request"
    remaining = stored.lifetime - age
    if remaining > 0 and remaining >= request.min_fresh:
        return "fresh"
    if remaining > 0:  # fresh for the cache, not fresh enough for the client
        return "request"
    if not stored.no_stale and request.max_stale is not None and -remaining <= request.max_stale:
        return "fresh"
    if not stored.no_stale and stored.swr and -remaining <= stored.swr:
        return "swr"
    return "stale"


def may_serve_stale_on_error(stored: StoredResponse, age: float, disconnected: bool) -> bool:
    """RFC 9111 §4.2.4 / RFC 5861 §4: stale on an upstream 5xx only within ``stale-if-error``; when
    the upstream is unreachable, too, unless a directive forbids stale (must-revalidate, …)."""
    if stored.no_stale and not stored.sie:
        return False
    staleness = age - stored.lifetime
    return staleness <= stored.sie or (disconnected and not stored.no_stale)


def cache_status(
    *,
    hit: bool = False,
    fwd: str | None = None,
    fwd_status: int | None = None,
    stored: bool = False,
    ttl: float | None = None,
    detail: str | None = None,
) -> bytes:
    """An RFC 9211 ``Cache-Status`` member for this edge, e.g. ``mediaedge; hit; ttl=42``."""
    parts = ["mediaedge"]
    if hit:
        parts.append("hit")
    if fwd:
        parts.append(f"fwd={fwd}")
    if fwd_status is not None:
        parts.append(f"fwd-status={fwd_status}")
    if stored:
        parts.append("stored")
    if ttl is not None:
        parts.append(f"ttl={math.floor(ttl)}")
    if detail:
        parts.append(f"detail={detail}")
    return "; ".join(parts).encode()
