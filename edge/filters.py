"""The ``edge_request_filter`` hook: plugins see every request before the edge routes it.

Each implementation gets a Starlette ``Request`` (method, URL, headers, client address; the body is the
route's, not the filter's) and returns:

- ``None`` — carry on;
- a Starlette ``Response`` — answer with it instead (custom auth refusing a request): no cache or
  origin work, no route runs;
- a mapping of header names to values — added to the edge's answer, whatever it is (delivery, error,
  control route).

An implementation may be ``async def``. Raising :class:`~mediaedge.errors.HTTPError` answers with its
JSON error body; any other exception is logged and answered with a 500 error body. Every filter runs,
in pluggy's order (the last registered first); the first ``Response`` in that order wins, and the
headers of the others are not added to it. Answers of filters are counted in the metrics and the
access log like any other. With no implementation loaded the edge skips all of this.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pluggy
from starlette.requests import Request
from starlette.responses import Response

from edge.control import error_response
from edge.respond import Headers, Receive, Scope, Send, adding_headers
from mediaedge.errors import HTTPError

__all__ = ["RequestFilters"]

log = logging.getLogger(__name__)


class RequestFilters:
    """The ``edge_request_filter`` implementations of a plugin manager."""

    def __init__(self, hook: Any) -> None:
        self._hook = hook

    @classmethod
    def of(cls, plugins: pluggy.PluginManager) -> RequestFilters | None:
        """The filters of ``plugins``, or None when no plugin implements the hook."""
        hook = plugins.hook.edge_request_filter
        return cls(hook) if hook.get_hookimpls() else None

    async def run(self, scope: Scope, receive: Receive, send: Send) -> tuple[Response | None, Send]:
        """Run every filter on the request: the answer to give instead of routing it (or None), and
        the ``send`` to answer through (adding the filters' headers)."""
        results = self._hook(request=Request(scope, receive))
        try:
            for index, result in enumerate(results):
                if inspect.isawaitable(result):
                    results[index] = await result
        except HTTPError as exc:
            return error_response(exc), send
        except Exception:
            log.exception("an edge request filter failed")
            return error_response(HTTPError(500, "Internal server error")), send
        finally:
            for result in results:
                if inspect.iscoroutine(result):
                    result.close()  # not awaited because an earlier filter raised
        headers: Headers = []
        for result in results:
            if isinstance(result, Response):
                return result, send
            if result:
                headers += [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in result.items()]
        return None, adding_headers(send, headers) if headers else send
