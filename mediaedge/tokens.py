"""Signed URL tokens: the JWT format shared by the origin (signing) and the edges (verifying).

A token is a compact JWS signed with an asymmetric key (``RS256`` or ``EdDSA``/Ed25519) whose ``kid``
names a key in the origin's JWKS. Claims:

- ``exp``, ``iat`` (NumericDate, required), optional ``nbf``;
- ``tid``: the tenant; ``path``: the exact object key, or with ``"scope": "prefix"`` a key prefix
  ending in ``/`` (one token for an HLS/DASH stream's playlists and segments);
- ``fid``: the id of the file an exact token was minted for; ``aid``: the id of the stream (asset) whose
  output directory a prefix token opens. The edge compares them with the ``X-Mediaedge-File-Id`` /
  ``X-Mediaedge-Asset-Id`` of the object it serves, so a token never opens a different file uploaded
  later under the same key. A prefix token for a plain directory has no ``aid`` and opens whatever is
  in it; ``fid`` is only valid on exact tokens, ``aid`` only on prefix tokens;
- optional ``ip``: an address or CIDR the client must connect from;
- optional ``sub``: the user the token was issued to (media API stream URLs are signed per user and
  per asset); edges log and expose it but grant nothing by it.

Verification trusts nothing in the header but ``alg`` and ``kid``: the algorithm must be the one of
the key named by ``kid``, ``jwk``/``jku``/``x5u``/``x5c`` are ignored (never fetched), and unknown
critical extensions are refused.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from mediaedge.keys import InvalidKey, validate_key

__all__ = [
    "ALGORITHMS",
    "Claims",
    "KeySet",
    "SigningKey",
    "TokenError",
    "generate_signing_key",
    "jwks",
    "looks_like_token",
    "sign_claims",
    "sign_token",
]

ALGORITHMS = ("RS256", "EdDSA")
#: Tolerated clock skew between origin and edge for ``iat`` and ``nbf`` (never for ``exp``).
CLOCK_SKEW = 30
MAX_TOKEN_LENGTH = 4096
MIN_RSA_BITS = 2048

_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_JWS = jwt.PyJWS(algorithms=list(ALGORITHMS))

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TokenError(Exception):
    """A token that must not grant access. ``code`` is the stable machine code for the error body.

    Codes: ``TOKEN_MALFORMED``, ``TOKEN_ALGORITHM``, ``TOKEN_KEY_UNKNOWN``, ``TOKEN_INVALID`` (bad
    signature), ``TOKEN_CLAIMS`` (missing or ill-typed claim), ``TOKEN_EXPIRED``, ``TOKEN_NOT_YET_VALID``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def looks_like_token(segment: str) -> bool:
    """True if a URL's first path segment has the shape of a compact JWS (``eyJ…``, three parts)."""
    return len(segment) <= MAX_TOKEN_LENGTH and _TOKEN_SHAPE.match(segment) is not None


# -- keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A private signing key as the origin stores it; ``public_jwk`` carries ``kid``, ``alg``, ``use``."""

    kid: str
    algorithm: str
    private_pem: str
    public_jwk: dict[str, Any]


def generate_signing_key(algorithm: str = "RS256") -> SigningKey:
    """A new key with a random ``kid``: RSA 2048-bit for ``RS256``, Ed25519 for ``EdDSA``."""
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
        public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        public = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        raise ValueError(f"unsupported algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    kid = secrets.token_urlsafe(12)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid, algorithm, pem, {**public, "kid": kid, "alg": algorithm, "use": "sig"})


def jwks(keys: Iterable[SigningKey | Mapping[str, Any]]) -> dict[str, Any]:
    """The JWKS document for ``/.well-known/jwks.json``: signing keys or public JWKs (retired keys)."""
    return {"keys": [dict(k.public_jwk if isinstance(k, SigningKey) else k) for k in keys]}


@lru_cache(maxsize=16)
def _load_private(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def sign_claims(key: SigningKey, claims: Mapping[str, Any]) -> str:
    """A JWS of arbitrary ``claims`` with ``key`` (``kid`` in the header), for origin documents that are
    not delivery tokens (e.g. upload policies with an ``aud``); the parsed key is cached."""
    return jwt.encode(dict(claims), _load_private(key.private_pem), algorithm=key.algorithm, headers={"kid": key.kid})


# -- claims ----------------------------------------------------------------------------------------


def _check_path(path: str, scope: str) -> None:
    """Raise ``ValueError`` unless ``path`` is a valid key (exact) or key prefix ending in ``/``."""
    if scope not in ("exact", "prefix"):
        raise ValueError("scope must be 'exact' or 'prefix'")
    if scope == "prefix" and not path.endswith("/"):
        raise ValueError("a prefix path must end with '/'")
    validate_key(path[:-1] if scope == "prefix" else path)


def _network(value: str) -> IPNetwork:
    return ipaddress.ip_network(value, strict=False)


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified claims of a token. ``kid`` is the key that verified it."""

    tid: str
    path: str
    scope: str
    exp: int
    iat: int
    nbf: int | None
    ip: IPNetwork | None
    kid: str
    fid: str | None = None
    aid: str | None = None
    sub: str | None = None

    def check_time(self, now: float) -> None:
        """Raise :class:`TokenError` if the token is expired or not yet valid at ``now``."""
        if now >= self.exp:
            raise TokenError("TOKEN_EXPIRED", "The token has expired")
        if max(self.iat, self.nbf or 0) > now + CLOCK_SKEW:
            raise TokenError("TOKEN_NOT_YET_VALID", "The token is not valid yet")

    def allows_path(self, key: str) -> bool:
        """True if the token covers object ``key`` (exactly, or under its prefix)."""
        if self.scope == "exact":
            return key == self.path
        if not key.startswith(self.path):
            return False
        try:
            validate_key(key)
        except InvalidKey:
            return False
        return True

    def allows_content(self, file_id: str, asset_id: str) -> bool:
        """True if the object's ids are those the token was minted for: an exact token needs its
        ``fid`` to be ``file_id`` (a token without one opens nothing), a prefix token with an ``aid``
        needs it to be ``asset_id``."""
        if self.scope == "exact":
            return self.fid is not None and self.fid == file_id
        return self.aid is None or self.aid == asset_id

    def allows_ip(self, client_ip: str) -> bool:
        """True if the token has no IP binding or ``client_ip`` is inside it."""
        if self.ip is None:
            return True
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return address in self.ip

    def allows(self, key: str, client_ip: str) -> bool:
        """Path and IP binding together."""
        return self.allows_path(key) and self.allows_ip(client_ip)


def _numeric(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("TOKEN_CLAIMS", f"The token's {name!r} claim is missing or not a number")
    return int(value)


def _claims(payload: Any, kid: str) -> Claims:
    if not isinstance(payload, dict):
        raise TokenError("TOKEN_CLAIMS", "The token's payload is not a JSON object")
    exp, iat = _numeric(payload, "exp"), _numeric(payload, "iat")
    tid, path, scope = payload.get("tid"), payload.get("path"), payload.get("scope", "exact")
    if not isinstance(tid, str) or not tid or not isinstance(path, str) or not isinstance(scope, str):
        raise TokenError("TOKEN_CLAIMS", "The token's 'tid' and 'path' claims are required")
    try:
        _check_path(path, scope)
    except ValueError as exc:
        raise TokenError("TOKEN_CLAIMS", f"The token's path is invalid: {exc}") from None
    if path.split("/", 1)[0] != tid:
        raise TokenError("TOKEN_CLAIMS", "The token's path is outside its tenant")
    ip = payload.get("ip")
    try:
        network = None if ip is None else _network(ip)
    except (TypeError, ValueError):
        raise TokenError("TOKEN_CLAIMS", "The token's 'ip' claim is not an address or CIDR") from None
    nbf = None if payload.get("nbf") is None else _numeric(payload, "nbf")
    fid, aid = _content_id(payload, "fid", scope, "exact"), _content_id(payload, "aid", scope, "prefix")
    sub = payload.get("sub")
    if sub is not None and (not isinstance(sub, str) or not sub):
        raise TokenError("TOKEN_CLAIMS", "The token's 'sub' claim is not a non-empty string")
    return Claims(tid, path, scope, exp, iat, nbf, network, kid, fid, aid, sub)


def _content_id(payload: Mapping[str, Any], name: str, scope: str, allowed_scope: str) -> str | None:
    """The optional ``fid``/``aid`` claim: a non-empty string, on tokens of ``allowed_scope`` only."""
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise TokenError("TOKEN_CLAIMS", f"The token's {name!r} claim is not a non-empty string")
    if scope != allowed_scope:
        raise TokenError("TOKEN_CLAIMS", f"The token's {name!r} claim is only valid on {allowed_scope} tokens")
    return value


# -- signing and verifying -------------------------------------------------------------------------


def sign_token(
    key: SigningKey,
    *,
    tenant_id: str,
    path: str,
    expires_at: int,
    scope: str = "exact",
    ip: str | None = None,
    file_id: str | None = None,
    asset_id: str | None = None,
    user_id: str | None = None,
    now: int | None = None,
) -> str:
    """Sign a token for ``path`` (a key, or with ``scope="prefix"`` a prefix ending in ``/``), bound to
    the file ``file_id`` (exact tokens) or the stream ``asset_id`` (prefix tokens, optional), issued to
    ``user_id`` (the ``sub`` claim, optional)."""
    _check_path(path, scope)
    if (file_id is not None and scope != "exact") or (asset_id is not None and scope != "prefix"):
        raise ValueError("file_id binds exact tokens, asset_id prefix tokens")
    if path.split("/", 1)[0] != tenant_id:
        raise ValueError("path must start with the tenant id")
    issued = int(time.time()) if now is None else now
    if expires_at <= issued:
        raise ValueError("expires_at must be in the future")
    claims: dict[str, Any] = {"exp": int(expires_at), "iat": issued, "tid": tenant_id, "path": path}
    if scope == "prefix":
        claims["scope"] = "prefix"
    for name, value in (("fid", file_id), ("aid", asset_id), ("sub", user_id)):
        if value is not None:
            if not value:
                raise ValueError(f"{name} must not be empty")
            claims[name] = value
    if ip is not None:
        claims["ip"] = str(_network(ip)) if "/" in ip else str(ipaddress.ip_address(ip))
    return jwt.encode(claims, _load_private(key.private_pem), algorithm=key.algorithm, headers={"kid": key.kid})


@dataclass(frozen=True, slots=True)
class _PublicKey:
    algorithm: str
    key: Any


def _public_key(jwk: Mapping[str, Any]) -> _PublicKey | None:
    """The verifying key of one JWKS entry, or None for entries this edge does not use."""
    kty, alg = jwk.get("kty"), jwk.get("alg")
    if jwk.get("use", "sig") != "sig":
        return None
    try:
        if kty == "RSA" and alg in (None, "RS256"):
            public = RSAAlgorithm.from_jwk(dict(jwk))
            if isinstance(public, rsa.RSAPublicKey) and public.key_size >= MIN_RSA_BITS:
                return _PublicKey("RS256", public)
        elif kty == "OKP" and jwk.get("crv") == "Ed25519" and alg in (None, "EdDSA"):
            return _PublicKey("EdDSA", OKPAlgorithm.from_jwk(dict(jwk)))
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    return None


class KeySet:
    """Public keys by ``kid``; verifies tokens. Immutable: a JWKS refresh builds a new one."""

    def __init__(self, keys: Mapping[str, _PublicKey] | None = None) -> None:
        self._keys = dict(keys or {})

    @classmethod
    def from_jwks(cls, document: object) -> KeySet:
        """Build from a JWKS document; entries without a usable ``kid``/type are skipped."""
        entries = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("a JWKS document needs a 'keys' list")
        keys: dict[str, _PublicKey] = {}
        for entry in entries:
            if isinstance(entry, Mapping) and isinstance(entry.get("kid"), str) and _KID.match(entry["kid"]):
                public = _public_key(entry)
                if public is not None:
                    keys[entry["kid"]] = public
        return cls(keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str, *, now: float | None = None) -> Claims:
        """Verify signature, header and claims; raise :class:`TokenError` with a code otherwise."""
        if not looks_like_token(token):
            raise TokenError("TOKEN_MALFORMED", "The token is not a compact JWS")
        try:
            header = _JWS.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("TOKEN_MALFORMED", "The token's header cannot be decoded") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise TokenError("TOKEN_ALGORITHM", "The token's algorithm is not accepted")
        if "crit" in header:
            raise TokenError("TOKEN_MALFORMED", "The token declares critical extensions")
        if not isinstance(kid, str) or kid not in self._keys:
            raise TokenError("TOKEN_KEY_UNKNOWN", "The token's signing key is unknown")
        public = self._keys[kid]
        if alg != public.algorithm:
            raise TokenError("TOKEN_ALGORITHM", "The token's algorithm does not match its key")
        try:
            payload = _JWS.decode(token, public.key, algorithms=[public.algorithm])
        except jwt.InvalidSignatureError:
            raise TokenError("TOKEN_INVALID", "The token's signature is invalid") from None
        except jwt.PyJWTError:
            raise TokenError("TOKEN_MALFORMED", "The token cannot be decoded") from None
        try:
            decoded = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise TokenError("TOKEN_MALFORMED", "The token's payload is not JSON") from None
        claims = _claims(decoded, kid)
        claims.check_time(time.time() if now is None else now)
        return claims
