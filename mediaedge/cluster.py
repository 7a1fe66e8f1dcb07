"""What origin and edges share: the edge secret, the header that carries it, and edge registration."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
from pathlib import Path

import httpx

from mediaedge.settings import Settings

EDGE_SECRET_HEADER = "x-mediaedge-edge-secret"  # noqa: S105 - a header name, not a secret
REGISTER_PATH = "/_edge/register"
USAGE_PATH = "/_edge/usage"  # edges push what they delivered per day and tenant (edge.usage)

log = logging.getLogger("mediaedge.cluster")


def edge_secret(settings: Settings) -> str:
    """``cluster.edge_secret``, or on a single node a secret generated once into ``data_dir``."""
    return settings.cluster.edge_secret or data_dir_secret(settings, "edge_secret")


def data_dir_secret(settings: Settings, name: str) -> str:
    """A random secret generated once into ``data_dir/NAME`` (mode 0600); every process reads the same."""
    path = Path(settings.data_dir) / name
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


async def register_edge(http: httpx.AsyncClient, origin_url: str, secret: str, edge_url: str, region: str) -> float:
    """Register (or heartbeat) the edge at ``edge_url`` with the origin, so deletes purge it.

    Returns the seconds until the next heartbeat is due. Raises ``httpx.HTTPError`` on failure.
    """
    response = await http.post(
        origin_url.rstrip("/") + REGISTER_PATH,
        json={"url": edge_url, "region": region},
        headers={EDGE_SECRET_HEADER: secret},
        timeout=10.0,
    )
    response.raise_for_status()
    return float(response.json()["heartbeat"])


async def keep_registered(
    http: httpx.AsyncClient, origin_url: str, secret: str, edge_url: str, region: str, *, retry: float = 5.0
) -> None:
    """Register now and at every heartbeat until cancelled; a failure is logged and retried soon."""
    while True:
        try:
            delay = await register_edge(http, origin_url, secret, edge_url, region)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("edge registration with %s failed: %s", origin_url, exc)
            delay = retry
        await asyncio.sleep(delay)
