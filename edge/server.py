"""Run the edge: uvicorn (uvloop + httptools, HTTP/1.1, with the lingering close of
:mod:`mediaedge.uvicorn_http`), hypercorn (HTTP/2 over TLS) or the lean
HTTP/1.1 server of :mod:`edge.http1`, with ``edge.workers`` processes. Worker processes rebuild the
settings :func:`run_edge` was given (:func:`mediaedge.settings.hand_to_workers`), so command-line
overrides reach every worker.
The servers' own access logs stay off: they would print tokens (see :mod:`edge.accesslog`).

Every answer carries exactly one ``Date``: a pull zone forwards the upstream's (stored) one, and only
an answer without one gets the current time: the lean server does so itself; uvicorn and hypercorn,
which would add theirs to the app's, are told not to, and serve the app through :func:`with_date`.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from edge import http1
from edge.app import EdgeApp, create_app
from edge.respond import Receive, Scope, Send
from mediaedge.listen import check_port_free
from mediaedge.settings import Settings, hand_to_workers, worker_settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol


def app_from_env() -> EdgeApp:
    """The app factory each worker process calls."""
    return create_app(worker_settings())


def with_date(app: Any) -> Any:
    """``app`` whose responses without a ``Date`` get one (for servers that add none themselves)."""

    async def dated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_dated(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == b"date" for name, _ in headers):
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_dated)

    return dated


def dated_app_from_env() -> Any:
    """The app factory each uvicorn/hypercorn worker process calls."""
    return with_date(app_from_env())


#: uvicorn options of the edge apart from address, workers and TLS (tests start uvicorn with them).
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": LingeringHttpToolsProtocol,
    "lifespan": "on",
    "access_log": False,
    "proxy_headers": False,  # the client address is the peer's; X-Forwarded-For is not trusted
    "server_header": False,
    "date_header": False,  # with_date adds one where the app has none
    "timeout_keep_alive": http1.KEEP_ALIVE,
}


def run_edge(settings: Settings) -> None:
    """Serve the edge until interrupted; :class:`~mediaedge.listen.PortInUse` if its port is taken."""
    check_port_free("edge.port", settings.edge.host, settings.edge.port)
    hand_to_workers(settings)
    {"hypercorn": _hypercorn, "lean": _lean}.get(settings.edge.server, _uvicorn)(settings)


def _uvicorn(settings: Settings) -> None:
    import uvicorn

    edge = settings.edge
    uvicorn.run(
        "edge.server:dated_app_from_env",
        factory=True,
        host=edge.host,
        port=edge.port,
        workers=edge.workers,
        ssl_certfile=edge.tls_cert or None,
        ssl_keyfile=edge.tls_key or None,
        **UVICORN_OPTIONS,
    )


def _hypercorn(settings: Settings) -> None:
    from hypercorn.config import Config
    from hypercorn.run import run

    edge = settings.edge
    config = Config()
    config.application_path = "edge.server:dated_app_from_env()"
    config.include_date_header = False  # with_date adds one where the app has none
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
