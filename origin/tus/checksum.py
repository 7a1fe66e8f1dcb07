"""The checksum extension: ``Upload-Checksum: <algorithm> <base64 digest>`` of one PATCH body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from mediaedge.errors import HTTPError

ALGORITHMS = ("md5", "sha1", "sha256")


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    def hasher(self) -> Any:
        return hashlib.new(self.algorithm, usedforsecurity=False)

    def matches(self, digest: bytes) -> bool:
        return hmac.compare_digest(digest, self.digest)


def parse_checksum(header: str | None) -> Checksum | None:
    """None without the header; 400 for an unsupported algorithm or a malformed digest."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm.lower() not in ALGORITHMS:
        raise HTTPError(
            400,
            f"Unsupported checksum algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}",
            "TUS_CHECKSUM_ALGORITHM",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if not digest:
        raise HTTPError(400, "Upload-Checksum needs a base64 digest", "TUS_CHECKSUM_INVALID")
    return Checksum(algorithm.lower(), digest)
