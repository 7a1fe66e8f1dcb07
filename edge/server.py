"""Run the edge: uvicorn (uvloop + httptools, HTTP/1.1, with the lingering close of
:mod:`mediaedge.uvicorn_http`), hypercorn (HTTP/2 over TLS) or ``lean``: uvicorn again, with the lean
HTTP/1.1 protocol of :mod:`edge.http1` and its fast path as uvicorn's ``http=`` class; with
``edge.workers`` processes. Worker processes rebuild the settings :func:`run_edge` was given
(:func:`mediaedge.settings.hand_to_workers`), so command-line overrides reach every worker, and end
with their supervisor even if it is killed outright (:func:`die_with_parent`).
The servers' own access logs stay off: they would print tokens (see :mod:`edge.accesslog`).

HTTP/3 (``edge.http3_port``, TLS required) is served beside any of them by one more process: hypercorn
with aioquic, on a UDP socket only (:func:`serve_http3`). One process whatever ``edge.workers`` is:
QUIC's packets of a connection must all reach the process holding its state, and a UDP socket shared
by several processes would scatter them. Every answer on every server advertises it with ``Alt-Svc``;
the app adds that header itself (:class:`edge.app.EdgeApp`), so the fast path replays it too.

Every answer carries exactly one ``Date``: a pull zone forwards the upstream's (stored) one, and only
an answer without one gets the current time: the lean protocol does so itself, on its fast path too
(it is given the app unwrapped, so it finds the app's fast path); uvicorn's own protocol and
hypercorn, which would add theirs to the app's, are told not to, and serve the app through
:func:`with_date`.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from email.utils import formatdate
from typing import Any

from hypercorn.config import Config as HypercornConfig

from edge import http1
from edge.app import EdgeApp, create_app
from edge.respond import Receive, Scope, Send
from mediaedge.listen import check_port_free
from mediaedge.settings import Settings, hand_to_workers, worker_settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol

PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent() -> None:
    """Linux: this process gets SIGTERM when its parent dies, even by SIGKILL, so a worker never
    outlives its supervisor holding the port. A worker whose supervisor died while it was still
    starting (before this ran) exits at once: the parent it was spawned by is not its parent any more."""
    if sys.platform.startswith("linux"):
        spawner = multiprocessing.parent_process()
        parent = spawner.pid if spawner is not None and spawner.pid is not None else os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(0)


def app_from_env() -> EdgeApp:
    """The app factory each lean worker process calls (the others' wrap it: :func:`dated_app_from_env`)."""
    settings = worker_settings()
    if settings.edge.workers > 1:  # a worker process of uvicorn's supervisor
        die_with_parent()
    return create_app(settings, govern=True)


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
#: The same for ``lean``: uvicorn supervises, the lean protocol serves the app itself (Date included).
LEAN_OPTIONS: dict[str, Any] = {**UVICORN_OPTIONS, "http": http1.UvicornProtocol}


def run_edge(settings: Settings) -> None:
    """Serve the edge until interrupted; :class:`~mediaedge.listen.PortInUse` if its port is taken."""
    check_port_free("edge.port", settings.edge.host, settings.edge.port)
    hand_to_workers(settings)
    http3 = None
    if settings.edge.http3_port:
        http3 = multiprocessing.get_context("spawn").Process(target=serve_http3, name="edge-http3", daemon=True)
        http3.start()
    try:
        if settings.edge.server == "hypercorn":
            _hypercorn(settings)
        elif settings.edge.server == "lean":
            _uvicorn(settings, "edge.server:app_from_env", LEAN_OPTIONS)
        else:
            _uvicorn(settings, "edge.server:dated_app_from_env", UVICORN_OPTIONS)
    finally:
        if http3 is not None:
            http3.terminate()
            http3.join(10)


def _uvicorn(settings: Settings, factory: str, options: dict[str, Any]) -> None:
    import uvicorn

    edge = settings.edge
    uvicorn.run(
        factory,
        factory=True,
        host=edge.host,
        port=edge.port,
        workers=edge.workers,
        ssl_certfile=edge.tls_cert or None,
        ssl_keyfile=edge.tls_key or None,
        **options,
    )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class EdgeConfig(HypercornConfig):
    """hypercorn's config without its own ``Alt-Svc`` (the app advertises HTTP/3 itself); at module
    level, as hypercorn pickles its config for its worker processes."""

    def response_headers(self, protocol: str) -> list[tuple[bytes, bytes]]:
        return [header for header in super().response_headers(protocol) if header[0] != b"alt-svc"]


def _hypercorn_config(settings: Settings) -> Any:
    """hypercorn's config for the edge: its app factory, no Date of its own, TLS when configured (ALPN
    offers h2 and http/1.1) and no ``Alt-Svc`` of its own (the app advertises HTTP/3 itself)."""
    edge = settings.edge
    config = EdgeConfig()
    config.application_path = "edge.server:dated_app_from_env()"
    config.include_date_header = False  # with_date adds one where the app has none
    config.worker_class = "uvloop"
    config.keep_alive_timeout = http1.KEEP_ALIVE
    if edge.tls_cert:
        config.certfile, config.keyfile = edge.tls_cert, edge.tls_key
    return config


def _hypercorn(settings: Settings) -> None:
    from hypercorn.run import run

    config = _hypercorn_config(settings)
    config.bind = [_address(settings.edge.host, settings.edge.port)]
    config.workers = settings.edge.workers
    run(config)


def serve_http3(settings: Settings | None = None) -> None:
    """The HTTP/3 process: hypercorn in this very process (no workers of its own), on UDP
    ``edge.http3_port`` only; ``settings`` default to those :func:`run_edge` handed to its workers."""
    from hypercorn.run import run

    die_with_parent()
    settings = settings or worker_settings()
    config = _hypercorn_config(settings)
    config.bind = []  # no TCP listener: the main server has the TCP port
    config.quic_bind = [_address(settings.edge.host, settings.edge.http3_port)]
    config.workers = 0
    run(config)
