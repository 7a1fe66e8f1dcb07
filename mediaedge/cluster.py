"""What origin and edges share: the edge secret and the header that carries it."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from mediaedge.settings import Settings

EDGE_SECRET_HEADER = "x-mediaedge-edge-secret"  # noqa: S105 - a header name, not a secret


def edge_secret(settings: Settings) -> str:
    """``cluster.edge_secret``, or on a single node a secret generated once into ``data_dir``."""
    if settings.cluster.edge_secret:
        return settings.cluster.edge_secret
    path = Path(settings.data_dir) / "edge_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # first writer wins; others read its secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented edge secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
