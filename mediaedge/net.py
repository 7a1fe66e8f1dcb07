"""SSRF-safe outbound HTTP for the requests the origin makes on behalf of users (from-URL, webhooks).

Every connection goes through :class:`NetPolicy`: the host is resolved once (literal IPv4 in any
``inet_aton`` spelling, IPv6, or DNS through an injectable resolver), every resolved address is
checked — IPv4-mapped, NAT64, 6to4 and Teredo IPv6 forms by the IPv4 they embed — and the socket
is opened to exactly the checked address, so DNS rebinding cannot swap it. The URL keeps its
hostname, so the Host header and TLS SNI/certificate checks stay those of the name. Redirects are
followed here, hop by hop, each hop checked again.

Errors: :class:`NetError` subclasses carry ``retryable``. Refusals by policy (:class:`InvalidURL`,
:class:`BlockedAddress`, :class:`TooManyRedirects`, :class:`ResponseTooLarge`) are permanent;
:class:`TransientNetError` (DNS failure, refused connection, timeout, broken stream) is worth a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    from mediaedge.settings import Settings

__all__ = [
    "BlockedAddress",
    "InvalidURL",
    "NetError",
    "NetPolicy",
    "ResponseTooLarge",
    "SafeClient",
    "SafeResponse",
    "TooManyRedirects",
    "TransientNetError",
    "blocked_reason",
    "literal_address",
    "parse_allow_entry",
    "system_resolver",
]

MAX_URL_LENGTH = 2048
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
#: ``async (host, port) -> [address, ...]``; raise :class:`TransientNetError` when the name does not resolve.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class NetError(Exception):
    """An outbound request that did not produce a response."""

    retryable = False


class InvalidURL(NetError):
    """Not an acceptable URL: bad syntax, scheme other than http(s), credentials, or too long."""


class BlockedAddress(NetError):
    """The URL (or a redirect) leads to an address outbound requests may not reach."""


class TooManyRedirects(NetError):
    """More than :data:`MAX_REDIRECTS` redirects."""


class ResponseTooLarge(NetError):
    """The response body exceeds the caller's size limit."""


class TransientNetError(NetError):
    """DNS failure, refused or reset connection, timeout: may succeed on a later try."""

    retryable = True


# -- address policy --------------------------------------------------------------------------------

_BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ip_network(net), why)
    for net, why in [
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "local NAT64"),
        ("100::/64", "discard"),
        ("2001::/23", "IETF protocol"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ]
)
#: Prefixes whose last 32 bits are an IPv4 address: NAT64 and SIIT's IPv4-translated form.
_TRANSLATED = (IPv6Network("64:ff9b::/96"), IPv6Network("::ffff:0:0:0/96"))


def _embedded_ipv4(ip: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (mapped, translated, 6to4, Teredo server + client)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if any(ip in prefix for prefix in _TRANSLATED):
        return [IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def blocked_reason(ip: IPAddress) -> str | None:
    """Why outbound requests may not reach ``ip`` (e.g. ``"loopback"``), or ``None`` if they may."""
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            reasons = [r for r in map(blocked_reason, embedded) if r]
            return f"{reasons[0]} (embedded in {ip})" if reasons else None
    for network, why in _BLOCKED:
        if ip in network:
            return why
    return None if ip.is_global else "non-global"


_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_NUMERIC_TAIL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host spells literally, ``None`` for a name.

    IPv4 follows the URL standard (what ``inet_aton`` and browsers accept): one to four parts in
    decimal, octal (``0177``) or hex (``0x7f``), the last filling the remaining bytes — so
    ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` all mean 127.0.0.1, and ``0`` is 0.0.0.0.
    """
    host = host.strip("[]")
    if ":" in host:
        try:
            return IPv6Address(host)
        except ValueError:
            raise InvalidURL(f"Invalid IPv6 address: {host!r}") from None
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _NUMERIC_TAIL.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        raise InvalidURL(f"Invalid IPv4 address: {host!r}")
    *head, last = map(_ipv4_number, parts)
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        raise InvalidURL(f"Invalid IPv4 address: {host!r}")
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return IPv4Address(value)


@dataclass(frozen=True)
class AllowRule:
    """One ``net.allow`` entry: a network or a host name, optionally limited to one port."""

    network: IPNetwork | None
    hostname: str | None
    port: int | None

    def matches(self, host: str, ip: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return ip.version == self.network.version and ip in self.network
        return host.lower().rstrip(".") == self.hostname


def parse_allow_entry(entry: str) -> AllowRule:
    """``10.0.0.0/8``, ``127.0.0.1:9000``, ``[::1]:9000``, ``::1``, ``hooks.internal:8443`` → a rule.

    A host name always comes with its port: a bare word (``notanaddr``) is a typo far more often than
    a wish to let every port of a host through."""
    text = entry.strip()
    host, port = text, None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not re.fullmatch(r":\d{1,5}", rest)):
            raise ValueError(f"{entry!r} is not a CIDR, host:port or address")
        port = int(rest[1:]) if rest else None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"{entry!r}: the port must be a number")
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{entry!r}: the port must be between 1 and 65535")
    try:
        network = ip_network(host, strict=False)
    except ValueError:
        if "/" in host or not re.fullmatch(r"[A-Za-z0-9.-]+", host) or port is None:
            raise ValueError(f"{entry!r} is not a CIDR, host:port or address (a host name needs its port)") from None
        return AllowRule(None, host.lower().rstrip("."), port)
    return AllowRule(network, None, port)


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's DNS (``getaddrinfo``), addresses in its preference order."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientNetError(f"DNS lookup of {host} failed: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class NetPolicy:
    """Which URLs and addresses outbound requests may reach; ``allow`` takes ``net.allow`` entries."""

    def __init__(self, allow: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.rules = tuple(parse_allow_entry(entry) for entry in allow)
        self.resolver = resolver or system_resolver

    def check_address(self, host: str, ip: IPAddress, port: int) -> None:
        """Raise :class:`BlockedAddress` unless ``ip`` is public or allowed by ``net.allow``."""
        reason = blocked_reason(ip)
        if reason and not any(rule.matches(host, ip, port) for rule in self.rules):
            target = str(ip) if host.strip("[]") == str(ip) else f"{host} ({ip})"
            raise BlockedAddress(f"URL resolves to a {reason} address: {target}")

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """Validate syntax, scheme and length; refuse credentials and blocked literal addresses.

        Host names are checked when a connection is made (they must be resolved first).
        """
        text = str(url)
        if len(text) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parsed = httpx.URL(text)
        except httpx.InvalidURL as exc:
            raise InvalidURL(f"Invalid URL: {exc}") from None
        if parsed.scheme not in DEFAULT_PORTS:
            raise InvalidURL("Only http and https URLs are allowed")
        if parsed.userinfo:
            raise InvalidURL("URLs with credentials (user@host) are not allowed")
        if not parsed.host:
            raise InvalidURL("URL has no host")
        address = literal_address(parsed.host)
        if address is not None:
            self.check_address(parsed.host, address, parsed.port or DEFAULT_PORTS[parsed.scheme])
        return parsed

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to; every one checked (one blocked address refuses them all)."""
        literal = literal_address(host)
        addresses = [str(literal)] if literal is not None else await self.resolver(host, port)
        if not addresses:
            raise TransientNetError(f"DNS lookup of {host} returned no addresses")
        for address in addresses:
            try:
                ip = ip_address(address)
            except ValueError:
                raise BlockedAddress(f"resolver returned a non-address for {host}: {address!r}") from None
            self.check_address(host, ip, port)
        return addresses


# -- transport -------------------------------------------------------------------------------------


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks every host, then opens the socket to exactly a checked address."""

    def __init__(self, policy: NetPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.resolve(host, port)
        except TimeoutError:
            raise TransientNetError(f"DNS lookup of {host} timed out") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: NetPolicy) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx has no public way to pass a network backend; its pool is replaced by one that has it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )


@contextlib.contextmanager
def _transient_errors() -> Iterator[None]:
    """httpx's transport failures → :class:`TransientNetError`."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientNetError(f"Request timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientNetError(f"Network error: {exc or type(exc).__name__}") from exc


class SafeResponse:
    """Status and headers of the final response; the body streams through :meth:`iter_bytes`."""

    def __init__(self, response: httpx.Response, max_bytes: int | None) -> None:
        self._response = response
        self.max_bytes = max_bytes
        self.status_code = response.status_code
        self.reason_phrase = response.reason_phrase
        self.headers = response.headers
        self.url = response.url

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The (content-decoded) body; raises :class:`ResponseTooLarge` as soon as it passes the limit."""
        limit = self.max_bytes
        declared = self.headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"File exceeds the maximum size of {limit} bytes")
        received = 0
        with _transient_errors():
            async for chunk in self._response.aiter_bytes():
                received += len(chunk)
                if limit is not None and received > limit:
                    raise ResponseTooLarge(f"File exceeds the maximum size of {limit} bytes")
                yield chunk


class SafeClient:
    """Outbound HTTP under a :class:`NetPolicy`, with a connect timeout and an overall deadline."""

    def __init__(
        self,
        policy: NetPolicy,
        *,
        connect_timeout: float = 30.0,
        timeout: float = 300.0,
        max_redirects: int = MAX_REDIRECTS,
        user_agent: str = "mediaedge",
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(policy),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"User-Agent": user_agent},
        )

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver | None = None) -> SafeClient:
        """A client with ``net.allow`` and the ``net`` timeouts."""
        return cls(
            NetPolicy(settings.net.allow, resolver),
            connect_timeout=settings.net.connect_timeout,
            timeout=settings.net.timeout,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> SafeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
        deadline: float | None = None,
    ) -> AsyncIterator[SafeResponse]:
        """Send a request and yield the final response, its body not yet read.

        ``deadline`` (default: the client's ``timeout``) bounds everything inside the ``async with``,
        body included.
        """
        limit = deadline or self.timeout
        try:
            async with asyncio.timeout(limit):
                response = await self._send(method, url, headers or {}, content, follow_redirects)
                try:
                    yield SafeResponse(response, max_bytes)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise TransientNetError(f"Request did not finish within {limit:g} s") from None

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None, follow: bool
    ) -> httpx.Response:
        target = self.policy.check_url(url)
        for hop in range(self.max_redirects + 1):
            request = self._client.build_request(method, target, headers=headers, content=content)
            with _transient_errors():
                response = await self._client.send(request, stream=True)
            location = response.headers.get("location")
            if not follow or response.status_code not in REDIRECT_STATUSES or not location:
                return response
            await response.aclose()
            if hop == self.max_redirects:
                break
            try:
                target = self.policy.check_url(target.join(location))
            except httpx.InvalidURL as exc:
                raise InvalidURL(f"Invalid redirect location: {exc}") from None
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, content = ("HEAD" if method == "HEAD" else "GET"), None
        raise TooManyRedirects(f"More than {self.max_redirects} redirects")
