"""A signed URL opens only the file it was issued for, through a real origin and edge process: after
the file is deleted and another one is uploaded under the same key, the old URL answers 404 and a new
token opens the new file at once (the origin purges the edge on create, not only on delete)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def edge(origin_server: OriginProcess) -> Iterator[str]:
    env = {"MEDIAEDGE_EDGE_OBJECT_TTL": "3600"}  # only purges, not revalidation, can drop what the edge holds
    with running_edge(origin_server, env, origin_server.data_dir.parent / "edge.log") as url:
        yield url


def _upload(origin: OriginProcess, data: bytes) -> dict:
    response = httpx.post(
        f"{origin.url}/upload/direct-upload",
        headers=origin.headers,
        files={"file": ("lecture.mp4", data)},
        data={"userId": "u", "destination": "r", "requireSignedUrl": "true"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _signed_url(origin: OriginProcess, edge: str, file: dict) -> str:
    response = httpx.post(f"{origin.url}/auth/url-token", headers=origin.headers, json={"url": file["url"]})
    assert response.status_code == 200, response.text
    return f"{edge}/{response.json()['token']}/{file['key']}"


def test_a_signed_url_never_opens_a_file_uploaded_later_under_its_key(origin_server: OriginProcess, edge: str):
    first_bytes, second_bytes = os.urandom(4096), os.urandom(4096)
    first = _upload(origin_server, first_bytes)
    old_url = _signed_url(origin_server, edge, first)
    served = httpx.get(old_url)
    assert (served.status_code, served.content) == (200, first_bytes)
    assert "immutable" in served.headers["cache-control"]  # browsers keep it a year under this URL

    deleted = httpx.request(
        "DELETE", f"{origin_server.url}/files/delete", headers=origin_server.headers, json={"file": first["url"]}
    )
    assert deleted.status_code == 200, deleted.text
    assert httpx.get(old_url).status_code == 404  # the edge remembers this 404 for a few seconds

    second = _upload(origin_server, second_bytes)
    assert second["key"] == first["key"] and second["id"] != first["id"]
    stale = httpx.get(old_url)
    assert (stale.status_code, stale.json()["code"]) == (404, "FILE_NOT_FOUND")
    fresh = httpx.get(_signed_url(origin_server, edge, second))
    assert (fresh.status_code, fresh.content) == (200, second_bytes)
    again = httpx.get(old_url)  # now a cache hit on the edge, with a verification it has cached
    assert (again.status_code, again.json()["code"]) == (404, "FILE_NOT_FOUND")
