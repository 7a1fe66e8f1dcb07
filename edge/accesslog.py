"""Optional JSON access log (``edge.access_log``), one line per response on logger
``mediaedge.edge.access``. A token in the path is logged as ``-``; query strings are not logged.
(The ASGI server's own access log is off: it would print the raw path.)"""

from __future__ import annotations

import logging
import re
import time

import orjson

log = logging.getLogger("mediaedge.edge.access")

MAX_LOGGED_PATH = 2048


_TOKEN_LIKE = re.compile(r"eyJ[^/]*")


def redact(raw_path: bytes) -> str:
    """The path to log, with anything that could be a token (a segment part from ``eyJ``) as ``-``."""
    return _TOKEN_LIKE.sub("-", raw_path[:MAX_LOGGED_PATH].decode("ascii", "backslashreplace"))


def write(
    client: str | None, method: str, raw_path: bytes, status: int, sent: int, tenant: str | None, started: float
) -> None:
    """Log one response; ``started`` is its ``time.perf_counter()`` at arrival."""
    record = {
        "time": round(time.time(), 3),
        "client": client,
        "method": method,
        "path": redact(raw_path),
        "status": status,
        "bytes": sent,
        "ms": round((time.perf_counter() - started) * 1000, 2),
        "tenant": tenant,
    }
    log.info(orjson.dumps(record).decode())
