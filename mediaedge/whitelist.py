"""Tenant whitelists (seed 000 "Domain Whitelisting"): which pages and apps may load a tenant's files.

- A ``Referer`` must name a whitelisted host; so must an ``Origin`` (CORS requests made with
  ``Referrer-Policy: no-referrer`` carry only ``Origin``). ``Origin: null`` counts as absent.
- No ``Referer`` and no ``Origin`` → allowed (image loads, email clients), as the seed says.
- ``X-App-ID`` must be one of the tenant's app ids.
- An empty list means no restriction of that kind.

Entries are host names: ``example.com`` matches exactly that host; ``*.example.com`` matches every
subdomain at any depth but **not** ``example.com`` itself (list both to allow both). Schemes, ports
and paths in entries are dropped; comparison is case-insensitive on IDNA (punycode) names. Referer
and Origin are parsed with a real URL parser and refused unless they are plain ``http(s)`` URLs with
a host and no userinfo, so ``allowed.com.evil.com``, ``evil.com/?allowed.com`` and
``allowed.com@evil.com`` never pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[?[0-9a-f:.]+\]?$")
_UNSAFE_URL = re.compile(r"[^\x21-\x7e]|\\")


def url_host(value: str) -> str | None:
    """The lower-case host of an ``http(s)`` URL as a browser sends it, or None if it is not one."""
    if _UNSAFE_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not _HOST.match(host):
        return None
    return host


def normalise_entry(entry: str) -> str | None:
    """A whitelist entry normalised to ``host`` or ``*.host``; None if it names no host (the
    dashboard refuses such entries; :meth:`Whitelist.of` ignores them)."""
    entry = entry.strip().lower()
    try:
        host = urlsplit(entry if "://" in entry else "//" + entry).hostname or ""
    except ValueError:
        return None
    wildcard = host.startswith("*.")
    host = host[2:] if wildcard else host
    try:
        host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not _HOST.match(host):
        return None
    return "*." + host if wildcard else host


@dataclass(frozen=True, slots=True)
class Whitelist:
    """Whitelisted hosts: exact names and ``.suffix`` wildcards. Empty = everything allowed."""

    exact: frozenset[str]
    suffixes: tuple[str, ...]
    restricted: bool

    @classmethod
    def of(cls, entries: Iterable[str]) -> Whitelist:
        """Build from the tenant's ``whitelisted_domains``; unusable entries allow nothing."""
        entries = [e for e in entries if e.strip()]
        normalised = [n for n in map(normalise_entry, entries) if n]
        exact = frozenset(n for n in normalised if not n.startswith("*."))
        suffixes = tuple(n[1:] for n in normalised if n.startswith("*."))
        return cls(exact, suffixes, bool(entries))

    def allows_host(self, host: str) -> bool:
        return not self.restricted or host in self.exact or host.endswith(self.suffixes)

    def allows_url(self, value: str) -> bool:
        """True if a ``Referer``/``Origin`` value may load the tenant's files."""
        if not self.restricted:
            return True
        host = url_host(value)
        return host is not None and self.allows_host(host)


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """What the origin says about a tenant (``GET /_edge/tenants/{id}``)."""

    id: str
    domains: Whitelist
    app_ids: frozenset[str]

    def refusal(self, referer: str | None, origin: str | None, app_id: str | None) -> str | None:
        """The error code refusing this request (``APP_NOT_WHITELISTED``/``ORIGIN_NOT_WHITELISTED``), or None."""
        if app_id is not None and self.app_ids and app_id not in self.app_ids:
            return "APP_NOT_WHITELISTED"
        for value in (referer, origin):
            if value and value != "null" and not self.domains.allows_url(value):
                return "ORIGIN_NOT_WHITELISTED"
        return None
