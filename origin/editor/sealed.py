"""Secrets the editor keeps at rest (developers' S3 credentials, sessions' ``apiAuthToken``) are
Fernet tokens (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF-SHA256 from
``editor.secret_key`` — or, when that is empty, from a random secret made once in
``data_dir/editor_secret``. Changing the secret makes the sealed values unreadable (re-register them).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mediaedge.cluster import data_dir_secret
from mediaedge.settings import Settings

__all__ = ["InvalidToken", "digest", "open_sealed", "seal"]

_INFO = b"mediaedge editor secrets at rest"


@cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _box(settings: Settings) -> Fernet:
    return _fernet(settings.editor.secret_key or data_dir_secret(settings, "editor_secret"))


def seal(settings: Settings, plain: str) -> str:
    """``plain`` encrypted and authenticated (a Fernet token)."""
    return _box(settings).encrypt(plain.encode()).decode()


def open_sealed(settings: Settings, token: str) -> str:
    """The plain text of a :func:`seal` token; :class:`InvalidToken` if the key changed or it was altered."""
    return _box(settings).decrypt(token.encode()).decode()


def digest(value: str) -> str:
    """The lookup hash of a bearer value (tokens are found by hash, never stored in the clear)."""
    return hashlib.sha256(value.encode()).hexdigest()
