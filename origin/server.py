"""Run the origin API: uvicorn (uvloop + httptools) with ``origin.workers`` processes and the lingering
close of :mod:`mediaedge.uvicorn_http`. Worker processes build the app (:mod:`origin.asgi`) from the
settings :func:`run_origin` was given (:func:`mediaedge.settings.hand_to_workers`), so command-line
overrides reach every worker.
"""

from __future__ import annotations

import uvicorn

from mediaedge.listen import check_port_free
from mediaedge.settings import Settings, hand_to_workers
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol


def run_origin(settings: Settings) -> None:
    """Serve the origin until interrupted; :class:`~mediaedge.listen.PortInUse` if its port is taken."""
    origin = settings.origin
    check_port_free("origin.port", origin.host, origin.port)
    hand_to_workers(settings)
    uvicorn.run(
        "origin.asgi:app",
        factory=True,
        host=origin.host,
        port=origin.port,
        workers=origin.workers,
        loop="uvloop",
        http=LingeringHttpToolsProtocol,
        log_level="info",
        proxy_headers=origin.trust_forwarded,
    )
