"""Refusing to start on a port another process listens on: one line naming the setting and the port,
instead of the server's traceback from deep inside its start-up."""

from __future__ import annotations

import errno
import socket

from mediaedge.settings import env_name

__all__ = ["PortInUse", "check_port_free"]


class PortInUse(Exception):
    """The port a setting names is taken; the message says which setting, and how to change it."""


def check_port_free(setting: str, host: str, port: int) -> None:
    """Bind ``host:port`` once and let it go; :class:`PortInUse` naming ``setting`` if that fails
    because the address is in use. Any other bind error is the server's to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return
        raise PortInUse(
            f"{setting} {port}: {host}:{port} is already in use by another process"
            f" (stop it, or choose another port with {env_name(setting)})"
        ) from None
