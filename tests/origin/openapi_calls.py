"""Calling a running origin's operations as a client does, and checking each answer against the
origin's own OpenAPI document (tests/origin/test_openapi*.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import jsonschema


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(t, m, op) for t, ops in document["paths"].items() for m, op in ops.items()]


def check_declared(document: dict, operation: dict, method: str, answer: httpx.Response, how: str = "") -> None:
    """``answer`` has a status ``operation`` declares, and a body that matches its schema."""
    declared = operation["responses"]
    where = f"{method.upper()} {answer.request.url.path} {how} answered {answer.status_code}: {answer.text[:300]}"
    assert str(answer.status_code) in declared, where
    content = declared[str(answer.status_code)].get("content", {}).get("application/json")
    if content and method != "head" and answer.status_code != 304:
        schema = content["schema"]
        root = {**schema, "components": document["components"]} if "$ref" in schema else schema
        try:
            jsonschema.validate(answer.json(), root)
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"{where}\n{exc}") from None


def with_success_bodies(document: dict, tags: Iterable[str]) -> set[tuple[str, str]]:
    """The operations of ``tags`` that declare a JSON body for a success status."""
    wanted = set(tags)
    return {
        (method, template)
        for template, method, operation in operations(document)
        if operation["tags"][0] in wanted
        and any("content" in r for status, r in operation["responses"].items() if int(status) < 300)
    }


class Calls:
    """Calls the document's operations and checks every answer against it; ``checked``: the operations
    whose declared JSON body was validated."""

    def __init__(self, client: httpx.Client, document: dict) -> None:
        self.client, self.document = client, document
        self.checked: set[tuple[str, str]] = set()

    def __call__(
        self, method: str, template: str, status: int | tuple[int, ...], path: str | None = None, **kw: Any
    ) -> Any:
        """Call ``template`` (at ``path``) expecting ``status`` (or one of them); the JSON body, if declared."""
        answer = self.client.request(method.upper(), path or template, **kw)
        expected = (status,) if isinstance(status, int) else status
        assert answer.status_code in expected, (method, template, answer.status_code, answer.text[:300])
        operation = self.document["paths"][template][method]
        check_declared(self.document, operation, method, answer)
        if "content" not in operation["responses"][str(answer.status_code)]:
            return None
        self.checked.add((method, template))
        return answer.json()


def editor_session(client: httpx.Client, api_key: str) -> str:
    """A session of the editor backend for the tenant of ``api_key`` (registered as its developer)."""
    registered = client.post("/api/developer", headers={"Authorization": f"Bearer {api_key}"}, json={})
    assert registered.status_code in (200, 201), registered.text
    session = client.post("/api/users", json={"apiKey": api_key, "name": "ann"})
    assert session.status_code == 200, session.text
    return str(session.json()["id"])
