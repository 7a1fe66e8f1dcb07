"""Run the edge: uvicorn (uvloop + httptools, HTTP/1.1, with the lingering close of
:mod:`mediaedge.uvicorn_http`), hypercorn (HTTP/2 over TLS) or the lean
HTTP/1.1 server of :mod:`edge.http1`, with ``edge.workers`` processes. Worker processes rebuild the
settings :func:`run_edge` was given (:func:`mediaedge.settings.hand_to_workers`), so command-line
overrides reach every worker.
The servers' own access logs stay off: they would print tokens (see :mod:`edge.accesslog`).
"""

from __future__ import annotations

from edge import http1
from edge.app import EdgeApp, create_app
from mediaedge.listen import check_port_free
from mediaedge.settings import Settings, hand_to_workers, worker_settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol


def app_from_env() -> EdgeApp:
    """The app factory each worker process calls."""
    return create_app(worker_settings())


def run_edge(settings: Settings) -> None:
    """Serve the edge until interrupted; :class:`~mediaedge.listen.PortInUse` if its port is taken."""
    check_port_free("edge.port", settings.edge.host, settings.edge.port)
    hand_to_workers(settings)
    {"hypercorn": _hypercorn, "lean": _lean}.get(settings.edge.server, _uvicorn)(settings)


def _uvicorn(settings: Settings) -> None:
    import uvicorn

    edge = settings.edge
    uvicorn.run(
        "edge.server:app_from_env",
        factory=True,
        host=edge.host,
        port=edge.port,
        workers=edge.workers,
        loop="uvloop",
        http=LingeringHttpToolsProtocol,
        lifespan="on",
        access_log=False,
        proxy_headers=False,  # the client address is the peer's; X-Forwarded-For is not trusted
        server_header=False,
        timeout_keep_alive=http1.KEEP_ALIVE,
        ssl_certfile=edge.tls_cert or None,
        ssl_keyfile=edge.tls_key or None,
    )


def _hypercorn(settings: Settings) -> None:
    from hypercorn.config import Config
    from hypercorn.run import run

    edge = settings.edge
    config = Config()
    config.application_path = "edge.server:app_from_env()"
    config.bind = [f"[{edge.host}]:{edge.port}" if ":" in edge.host else f"{edge.host}:{edge.port}"]
    config.workers = edge.workers
    config.worker_class = "uvloop"
    config.keep_alive_timeout = http1.KEEP_ALIVE
    if edge.tls_cert:  # ALPN offers h2 and http/1.1
        config.certfile, config.keyfile = edge.tls_cert, edge.tls_key
    run(config)


def _lean(settings: Settings) -> None:
    edge = settings.edge
    context = http1.tls_context(edge.tls_cert, edge.tls_key) if edge.tls_cert else None
    http1.run(app_from_env, edge.host, edge.port, workers=edge.workers, ssl_context=context)
