"""The origin's own presigned upload form, for buckets whose backend cannot presign (local disk).

It has the semantics of an S3 POST policy: the form carries ``key``, ``Content-Type`` and ``policy``
fields and then the file; the policy is signed by the origin and pins the bucket, the key, the
Content-Type, the exact size and an expiry. A form that breaks any of them is refused (403, like S3's
``AccessDenied``; 400 for a body of the wrong size, like ``EntityTooSmall``/``EntityTooLarge``).

The policy is a JWT signed with the origin's URL-token keys (:mod:`origin.keys`) for the audience
``mediaedge:media-upload``; it has none of the claims of a delivery token (``tid``, ``path``), so an
edge refuses it, and a delivery token is no upload policy (it has no audience).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from mediaedge.errors import HTTPError
from mediaedge.tokens import sign_claims
from origin.state import OriginState

AUDIENCE = "mediaedge:media-upload"
#: Where the form is posted, under the origin's URL.
FORM_PATH = "/api/v1/media/direct-upload"


@dataclass(frozen=True)
class UploadPolicy:
    tenant_id: str
    asset_id: str
    bucket: str
    key: str
    content_type: str
    size: int
    expires_at: int


async def sign_policy(state: OriginState, policy: UploadPolicy) -> str:
    claims = {
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": policy.expires_at,
        "ten": policy.tenant_id,
        "aid": policy.asset_id,
        "bkt": policy.bucket,
        "key": policy.key,
        "ct": policy.content_type,
        "len": policy.size,
    }
    return sign_claims(await state.keys.active(), claims)


async def verify_policy(state: OriginState, token: str) -> UploadPolicy:
    """The policy a form carries; 403 if it is not one the origin signed, or it has expired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise HTTPError(403, "Invalid upload policy", "upload.policy_invalid") from None
    jwks = await state.store.signing_keys.verifying_jwks(time.time())
    jwk = next((k for k in jwks if k.get("kid") == header.get("kid")), None)
    if jwk is None or header.get("alg") != jwk.get("alg"):
        raise HTTPError(403, "Invalid upload policy", "upload.policy_invalid")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt.PyJWK(jwk).key,
            algorithms=[jwk["alg"]],
            audience=AUDIENCE,
            options={"require": ["exp", "aud", "key", "len", "ct"]},
        )
    except jwt.ExpiredSignatureError:
        raise HTTPError(403, "The upload policy has expired", "upload.policy_expired") from None
    except jwt.PyJWTError:
        raise HTTPError(403, "Invalid upload policy", "upload.policy_invalid") from None
    return UploadPolicy(
        tenant_id=str(claims["ten"]),
        asset_id=str(claims["aid"]),
        bucket=str(claims["bkt"]),
        key=str(claims["key"]),
        content_type=str(claims["ct"]),
        size=int(claims["len"]),
        expires_at=int(claims["exp"]),
    )
