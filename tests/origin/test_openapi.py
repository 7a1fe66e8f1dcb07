"""The generated OpenAPI 3.1 document: valid, complete (every route of the running app, every dialect),
and true — a property test sends every operation generated requests (no credentials, a tenant's key
as API-Key and as Bearer, the edge secret, an editor session; hypothesis-drawn path parameters,
declared headers, bodies) and checks each answer is one the operation declares, with a body matching
the declared schema (every error: the one error body). The other dialects' success answers are
checked in test_openapi_dialects.py."""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from mediaedge.cluster import edge_secret
from mediaedge.settings import load_settings
from origin.app import ROUTES
from origin.openapi import Dialect, build, describe
from tests.origin.openapi_calls import Calls, check_declared, editor_session, operations, with_success_bodies

pytestmark = pytest.mark.anyio

SEGMENT = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=24).filter(
    lambda s: s not in (".", "..")
)


async def _document(origin_client) -> dict:
    answer = await origin_client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def _schema_routes():
    for route in ROUTES:
        if isinstance(route, Route) and route.include_in_schema:
            yield route
        assert not isinstance(route, Mount) or not route.routes


async def test_document_is_valid_openapi_3_1(origin_client):
    document = await _document(origin_client)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert {t["name"] for t in document["tags"]} >= {"aauti", "edge", "operations"}
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "API-Key",
        "description": "A tenant's API key.",
    }


async def test_every_route_is_described_and_no_dashboard_page_is(origin_client):
    paths = (await _document(origin_client))["paths"]
    for route in _schema_routes():
        template = route.path.replace(":path", "")
        methods = {m.lower() for m in route.methods} - ({"head"} if "GET" in route.methods else set())
        assert template in paths, template
        assert methods <= set(paths[template]), (template, methods)
    assert not [p for p in paths if p.startswith("/dashboard")]
    operations = [op for ops in paths.values() for op in ops.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert all(op["summary"] and op["tags"] for op in operations)


def test_new_dialect_routes_appear_with_their_declarations():
    """A route a dialect adds shows up in the document: docstring, tag, security, schemas."""
    from pydantic import BaseModel

    class Thing(BaseModel):
        name: str
        size: int = 0

    @describe(request=Thing, responses={201: Thing}, errors=(409,))
    async def make_thing(request):
        """Make a thing.

        The thing is made at once."""

    make_thing.__module__ = "origin.api.aauti.things"
    document = build(
        [Route("/things/{thing_id:int}", make_thing, methods=["POST"])], title="t", version="1", server="http://x"
    )
    validate(document)
    op = document["paths"]["/things/{thing_id}"]["post"]
    assert op["summary"] == "Make a thing." and op["description"] == "The thing is made at once."
    assert op["tags"] == ["aauti"] and op["security"] == [{"ApiKey": []}]
    assert op["parameters"] == [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Thing"}
    assert set(op["responses"]) == {"201", "400", "401", "404", "409"}
    assert document["components"]["schemas"]["Thing"]["required"] == ["name"]
    assert isinstance(Dialect("x"), Dialect)


@pytest.fixture(scope="module")
def running(shared_origin_server):
    """The running origin, its document, and the ways of calling it."""
    server = shared_origin_server
    secret = edge_secret(load_settings(environ=server._env()))
    # A fresh connection per request: the server may close one after an error it answered without
    # reading the body, and a reused connection would race that close.
    with httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        document = client.get("/openapi.json").json()
        credentials = [
            {},
            server.headers,
            {"Authorization": f"Bearer {server.api_key}"},
            {"X-Mediaedge-Edge-Secret": secret},
            {"Authorization": editor_session(client, server.api_key)},
        ]
        yield client, document, credentials


def _probe(
    client: httpx.Client,
    document: dict,
    template: str,
    method: str,
    operation: dict,
    data: st.DataObject,
    credentials: list[dict],
) -> None:
    path = template
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            integer = parameter["schema"].get("type") == "integer"
            value = data.draw(st.integers(0, 10**6).map(str) if integer else SEGMENT, label=parameter["name"])
            path = path.replace("{" + parameter["name"] + "}", value)
    headers = dict(data.draw(st.sampled_from(credentials), label="credentials"))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and "const" in parameter["schema"] and data.draw(st.booleans()):
            headers[parameter["name"]] = parameter["schema"]["const"]
    media_types = list(operation.get("requestBody", {}).get("content", {})) or ["application/json"]
    body = None
    if "requestBody" in operation or method in ("post", "patch"):
        media_type = media_types[0]
        body = b"{}" if media_type == "application/json" else data.draw(st.binary(max_size=64), label="body")
        headers["Content-Type"] = media_type
    answer = client.request(method.upper(), path, headers=headers, content=body)
    check_declared(document, operation, method, answer, f"with {sorted(headers)}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_operation_answers_what_it_declares(running, data):
    client, document, credentials = running
    for template, method, operation in operations(document):
        _probe(client, document, template, method, operation, data, credentials)


def test_success_answers_match_their_declared_schemas(running):
    """The upload / API / delivery routes and the edge contract, called as a client would: each success
    answer is the status its operation declares, with a body matching the declared schema."""
    client, document, credentials = running
    api_key, edge = credentials[1], credentials[3]
    call = Calls(client, document)

    uploaded = call(
        "post",
        "/upload/direct-upload",
        201,
        headers=api_key,
        files={"file": ("talk.mp4", b"\x00" * 2048)},
        data={"userId": "u1", "destination": "docs"},
    )
    file_url, tenant_id = uploaded["url"], uploaded["key"].split("/")[0]
    call("get", "/files/duration", 200, headers=api_key, params={"file": file_url})
    call("get", "/files/download", 200, headers=api_key, params={"file": file_url})
    call("post", "/files/register", 201, headers=api_key, json={"filePath": uploaded["key"]})
    call("post", "/auth/url-token", 200, headers=api_key, json={"url": file_url, "expiresIn": 600})
    call("get", "/.well-known/jwks.json", 200)
    call("post", "/embed/token", 200, headers=api_key, json={"file": uploaded["id"], "user_name": "Ann"})
    queued = call("post", "/upload/from-url", 202, headers=api_key, json={"url": "https://media.example/a.mp4"})
    call("get", "/upload/jobs/{job_id}", 200, f"/upload/jobs/{queued['jobId']}", headers=api_key)
    created = call(
        "post",
        "/streams/v1/create",
        201,
        headers=api_key,
        json={"streams": [{"url": file_url, "meta": {"name": "talk"}}]},
    )
    stream = f"/streams/v1/{created['ids'][0]}"
    call("get", "/streams/v1", 200, headers=api_key)
    call("get", "/streams/v1/{stream_id}", 200, stream, headers=api_key)
    call("delete", "/streams/v1/{stream_id}", 200, stream, headers=api_key)
    deliveries = call("get", "/webhooks/deliveries", 200, headers=api_key)["deliveries"]
    delivery = f"/webhooks/deliveries/{deliveries[0]['id']}"
    call("get", "/webhooks/deliveries/{delivery_id}", 200, delivery, headers=api_key)
    call("post", "/webhooks/deliveries/{delivery_id}/retry", 202, f"{delivery}/retry", headers=api_key)
    call("get", "/files", 200, headers=api_key)
    call("delete", "/files/delete", 200, headers=api_key, json={"file": file_url})
    call("get", "/_edge/tenants/{tenant_id}", 200, f"/_edge/tenants/{tenant_id}", headers=edge)
    counters = [{"day": 20000, "tenant": tenant_id, "requests": 1, "bytes": 10}]
    report = {"edge": "http://edge.example", "instance": "i1", "counters": counters}
    call("post", "/_edge/usage", 200, headers=edge, json=report)
    call("post", "/_edge/register", 200, headers=edge, json={"url": "http://127.0.0.1:9", "region": "test"})
    assert with_success_bodies(document, ("aauti", "edge")) == call.checked  # every such route, none left unchecked


async def test_docs_page_serves_swagger_ui_from_the_origin(origin_client):
    page = await origin_client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r'<script src="([^"]+)"></script>', page.text)
    assert [urlsplit(s).path for s in scripts] == ["/docs/assets/swagger-ui-bundle.js", "/docs/assets/docs.js"]
    for src in scripts:
        asset = await origin_client.get(src)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"SwaggerUIBundle" in (await origin_client.get(scripts[0])).content
    assert (await origin_client.get("/docs/assets/../../app.py")).status_code == 404
