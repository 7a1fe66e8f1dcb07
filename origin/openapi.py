"""The OpenAPI 3.1 description of every origin route, generated from the routes themselves.

:func:`build` walks the app's routes (every dialect's, the edge contract's, the origin's own), so a
route a dialect adds appears without anyone editing a document. What goes into an operation:

- **path and methods** from the Starlette route (``{key:path}`` becomes ``{key}``; ``HEAD`` is listed
  only where a route answers nothing else); path parameters from the route's convertors;
- **summary and description** from the endpoint's docstring (first line, then the rest);
- **tag**: the dialect — the ``origin.api.<dialect>`` package the endpoint lives in, described by that
  package's docstring; other modules get theirs from :data:`TAGS`;
- **security and common errors**: the dialect package's ``OPENAPI`` (:class:`Dialect`) — its auth
  schemes and the error statuses all its routes may answer;
- **request and response schemas, query parameters, extra statuses**: what the endpoint declares with
  :func:`describe` — pydantic models (their JSON Schemas go to ``components.schemas``, one name one
  schema: two models of one name are refused) or JSON Schema dicts. Answers are best described with
  :class:`Answer` models (closed: a field the route starts answering fails the property test until it
  is declared), a field that may be missing but is never null as ``T | Absent = None``.

Every error status answers the one error body (``components.schemas.Error``). Routes built with
``include_in_schema=False`` (the dashboard's pages) are left out. ``GET /openapi.json`` serves the
document, ``GET /docs`` a Swagger UI reference page with its files served locally (npm).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from mediaedge.errors import error_name
from origin.http import JSON
from origin.static import AssetSet

F = TypeVar("F", bound=Callable[..., Any])
Schema = type[BaseModel] | dict[str, Any]

#: ``field: T | Absent = None``: the field may be left out, but when it is there it is a ``T`` (never null).
Absent = SkipJsonSchema[None]


def one_of(values: Iterable[str | int], **field: Any) -> Any:
    """A pydantic ``Field`` whose JSON Schema lists ``values`` (a vocabulary kept elsewhere) as its enum."""
    return Field(json_schema_extra={"enum": list(values)}, **field)


class Answer(BaseModel):
    """A response body: its JSON Schema allows no field it does not declare."""

    model_config = ConfigDict(extra="forbid")


OPENAPI_VERSION = "3.1.0"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
_CONVERTOR_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error body every route answers with.",
    "required": ["statusCode", "message", "error"],
    "properties": {
        "statusCode": {"type": "integer", "examples": [400]},
        "message": {"type": "string"},
        "error": {"type": "string", "description": "The status phrase in PascalCase", "examples": ["BadRequest"]},
        "code": {"type": "string", "description": "A stable machine code", "examples": ["API_KEY_INVALID"]},
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "API-Key", "description": "A tenant's API key."},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "A tenant's API key as a Bearer token."},
    "EdgeSecret": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Mediaedge-Edge-Secret",
        "description": "The secret shared by the origin and its edges (cluster.edge_secret).",
    },
}


@dataclass(frozen=True)
class Dialect:
    """What a dialect package (or another route module) says about all of its routes.

    ``security``: names of :data:`SECURITY_SCHEMES` (or schemes it adds with ``schemes``), any one of
    which authenticates; ``errors``: statuses every route of it may answer besides its own;
    ``public_modules``: its modules whose routes need no credentials; ``module_security``: modules
    authenticated otherwise than the rest (a route can also say ``describe(security=...)``).
    """

    name: str
    description: str = ""
    security: tuple[str, ...] = ()
    schemes: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    public_modules: tuple[str, ...] = ()
    module_security: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


#: Route modules outside ``origin.api``: the tag they appear under.
TAGS: dict[str, Dialect] = {
    "origin.edge_api": Dialect(
        "edge",
        "The edge ↔ origin contract: objects with their policy, tenant policy, edge registration.",
        ("EdgeSecret",),
        errors=(400, 401, 404),
    ),
    "origin.app": Dialect("operations", "Health, metrics and this description."),
    "origin.openapi": Dialect("operations"),
    "origin.metrics": Dialect("operations"),
}


@dataclass(frozen=True)
class Operation:
    """What :func:`describe` attached to an endpoint."""

    summary: str | None = None
    description: str | None = None
    request: Schema | None = None
    request_type: str = "application/json"
    request_required: bool = True
    responses: Mapping[int, Schema | str | None] = field(default_factory=dict)
    query: Mapping[str, Schema] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    headers: Mapping[str, Schema] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    security: tuple[str, ...] | None = None  # None: the dialect's; () public


def describe(
    *,
    summary: str | None = None,
    description: str | None = None,
    request: Schema | None = None,
    request_type: str = "application/json",
    request_required: bool = True,
    responses: Mapping[int, Schema | str | None] | None = None,
    query: Mapping[str, Schema] | None = None,
    required_query: Iterable[str] = (),
    headers: Mapping[str, Schema] | None = None,
    errors: Iterable[int] = (),
    security: Iterable[str] | None = None,
) -> Callable[[F], F]:
    """Declare an endpoint's schemas for the OpenAPI document.

    ``responses`` maps a status to a schema, a media type's description string, or None (no body);
    ``request_required=False``: the body may be empty;
    ``errors`` are further error statuses (the error body); ``security=()`` marks a public route.
    """

    def mark(endpoint: F) -> F:
        endpoint.__openapi__ = Operation(  # type: ignore[attr-defined]
            summary,
            description,
            request,
            request_type,
            request_required,
            dict(responses or {}),
            dict(query or {}),
            tuple(required_query),
            dict(headers or {}),
            tuple(errors),
            None if security is None else tuple(security),
        )
        return endpoint

    return mark


def _dialect(module: str) -> Dialect:
    if module in TAGS:
        return TAGS[module]
    parts = module.split(".")
    if parts[:2] == ["origin", "api"] and len(parts) >= 3:
        package = importlib.import_module(".".join(parts[:3]))
        declared = getattr(package, "OPENAPI", None)
        if isinstance(declared, Dialect):
            return declared
        doc = (inspect.getdoc(package) or "").replace("``", "`")
        return Dialect(parts[2], doc.split("\n\n")[0])
    return Dialect(parts[-1])


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def schema(self, value: Schema) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        generated = value.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in {**generated.pop("$defs", {}), value.__name__: generated}.items():
            _drop_null_defaults(definition)
            if self.schemas.setdefault(name, definition) != definition:
                raise ValueError(f"two schemas named {name}: give one of the models another name")
        return {"$ref": f"#/components/schemas/{value.__name__}"}


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """``"default": null`` on a property that cannot be null (an :data:`Absent` field) says nothing true."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None and not _nullable(prop):
            del prop["default"]


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(s) for s in schema.get("anyOf", []))


def _unwrap(endpoint: Any) -> Any:
    while hasattr(endpoint, "__wrapped__") and not hasattr(endpoint, "__openapi__"):
        endpoint = endpoint.__wrapped__
    return endpoint


def _routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Route) and route.include_in_schema:
            yield prefix + route.path, route
        elif isinstance(route, Mount):
            yield from _routes(route.routes, prefix + route.path)


def _error(status: int) -> dict[str, Any]:
    return {
        "description": error_name(status),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(path: str, route: Route, method: str, components: _Components) -> tuple[str, dict[str, Any]]:
    endpoint = _unwrap(route.endpoint)
    declared: Operation = getattr(endpoint, "__openapi__", Operation())
    dialect = _dialect(endpoint.__module__)
    doc = (inspect.getdoc(endpoint) or "").replace("``", "`")  # reST literals as Markdown
    first, _, rest = doc.partition("\n\n")
    template = _PARAM.sub(r"{\1}", path)
    summary = declared.summary or " ".join(first.split()) or f"{method.upper()} {template}"
    module = endpoint.__module__.rsplit(".", 1)[-1]
    operation: dict[str, Any] = {
        "operationId": f"{dialect.name}.{module}.{endpoint.__name__}.{method}",
        "tags": [dialect.name],
        "summary": summary,
    }
    if declared.description or rest:
        operation["description"] = declared.description or rest.strip()
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _CONVERTOR_TYPES.get(convertor or "str", {"type": "string"}),
        }
        for name, convertor in _PARAM.findall(path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": name in declared.required_query, "schema": components.schema(s)}
        for name, s in declared.query.items()
    ]
    parameters += [
        {"name": name, "in": "header", "required": False, "schema": components.schema(s)}
        for name, s in declared.headers.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if declared.request is not None:
        operation["requestBody"] = {
            "required": declared.request_required,
            "content": {declared.request_type: {"schema": components.schema(declared.request)}},
        }
    responses: dict[str, Any] = {}
    for status, schema in (declared.responses or {200: None}).items():
        if isinstance(schema, str):
            responses[str(status)] = {"description": schema}
        elif schema is None:
            responses[str(status)] = {"description": error_name(status) if status >= 400 else "Success"}
        else:
            responses[str(status)] = {
                "description": "Success" if status < 400 else error_name(status),
                "content": {"application/json": {"schema": components.schema(schema)}},
            }
    security = dialect.security if declared.security is None else declared.security
    if declared.security is None and endpoint.__module__ in dialect.public_modules:
        security = ()
    elif declared.security is None and endpoint.__module__ in dialect.module_security:
        security = dialect.module_security[endpoint.__module__]
    for status in sorted({*dialect.errors, *declared.errors, *((401,) if security else ())}):
        responses.setdefault(str(status), _error(status))
    operation["responses"] = responses
    operation["security"] = [{name: []} for name in security] if security else []
    return template, operation


def build(routes: Iterable[BaseRoute], *, title: str, version: str, server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes``."""
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    schemes = dict(SECURITY_SCHEMES)
    ids: set[str] = set()
    for path, route in _routes(routes):
        methods = {m.lower() for m in route.methods or ()}
        if "get" in methods:
            methods.discard("head")
        endpoint = _unwrap(route.endpoint)
        dialect = _dialect(endpoint.__module__)
        tags.setdefault(dialect.name, dialect.description)
        schemes.update(dialect.schemes)
        for method in sorted(methods, key=METHODS.index):
            template, operation = _operation(path, route, method, components)
            if operation["operationId"] in ids:  # one endpoint on several paths
                operation["operationId"] += "." + re.sub(r"[^A-Za-z0-9]+", "_", template).strip("_")
            ids.add(operation["operationId"])
            paths.setdefault(template, {})[method] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "Every API the origin speaks (one tag per dialect), generated from its routes.",
        },
        "servers": [{"url": server}],
        "tags": [{"name": name, **({"description": d} if d else {})} for name, d in sorted(tags.items())],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": components.schemas, "securitySchemes": schemes},
    }


# -- serving ---------------------------------------------------------------------------------------

DOCS_ASSETS = AssetSet(
    "/docs/assets",
    {
        "swagger-ui-bundle.js": "dashboard/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        "swagger-ui.css": "dashboard/node_modules/swagger-ui-dist/swagger-ui.css",
        "docs.js": "dashboard/static/docs.js",
    },
    "run `npm install --prefix origin/dashboard`",
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


@describe(security=(), responses={200: "The OpenAPI 3.1 document (application/json)"})
async def openapi_json(request: Request) -> Response:
    """This document: every route of every API dialect the origin serves."""
    document = getattr(request.app.state, "openapi", None)
    if document is None:
        from importlib.metadata import version

        settings = request.app.state.origin.settings
        document = build(
            request.app.routes, title="mediaedge origin API", version=version("mediaedge"), server=settings.origin.url
        )
        request.app.state.openapi = document
    return JSON(document, headers={"Cache-Control": "no-cache"})


@describe(security=(), responses={200: "The API reference page (text/html)"})
async def docs_page(request: Request) -> Response:
    """The API reference: Swagger UI over ``/openapi.json``."""
    css, bundle, script = (DOCS_ASSETS.url(n) for n in ("swagger-ui.css", "swagger-ui-bundle.js", "docs.js"))
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mediaedge API reference</title>'
        f'<link rel="stylesheet" href="{css}"></head><body><div id="swagger-ui" data-url="/openapi.json"></div>'
        f'<script src="{bundle}"></script><script src="{script}"></script></body></html>'
    )
    headers = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return HTMLResponse(html, headers=headers)


@describe(security=(), responses={200: "The file", 304: "Not modified"}, errors=(404,))
async def docs_asset(request: Request) -> Response:
    """A file of the reference page (Swagger UI from npm)."""
    return await DOCS_ASSETS.serve(request)


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
    Route("/docs/assets/{name}", docs_asset, methods=["GET"]),
]
