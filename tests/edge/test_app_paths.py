"""The raw path is checked before anything else: traversal and encoding tricks answer 400."""

from __future__ import annotations

import pytest

from edge.app import EdgeApp
from edge.paths import split_object_path
from mediaedge.errors import HTTPError
from tests.edge.fakes import DATA, FakeCache, FakeOrigin, call

pytestmark = pytest.mark.anyio

TRICKS = [
    b"/f1/t1/u1/../u2/x.mp4",
    b"/f1/t1/u1/./x.mp4",
    b"/f1/t1//x.mp4",
    b"/f1/t1/u1/",
    b"/f1/t1/u1/videos/clip.mp4/",
    b"/f1/t1/u1/%2e%2e/x.mp4",
    b"/f1/t1/u1/%2E%2E/x.mp4",
    b"/f1/t1/u1/.%2e/x.mp4",
    b"/f1/t1/u1/%2e/x.mp4",
    b"/f1/t1%2fu1/x.mp4",
    b"/f1/t1%2Fu1%2F..%2Fx.mp4",
    b"/f1/t1/u1%5cx.mp4",
    b"/f1/t1/u1/..%5c..%5cx.mp4",
    b"/f1/t1/u1\\x.mp4",
    b"/f1/t1/u1/..\\x.mp4",
    b"/f1/t1/u1/%252e%252e/x.mp4",
    b"/f1/t1/u1/%25/x.mp4",
    b"/f1/t1/u1/x.mp4%00",
    b"/f1/t1/u1/x%00.mp4",
    b"/f1/t1/u1/x\x00.mp4",
    b"/f1/t1/u1/x%0a.mp4",
    b"/f1/t1/u1/x%0D%0AX-Injected:%201.mp4",
    b"/f1/t1/u1/x%7f.mp4",
    b"/f1/t1/u1/x\x7f.mp4",
    b"/f1/t1/u1/x\t.mp4",
    b"/f1/t1/u1/my file.mp4",
    b"/f1/t1/u1/%zz.mp4",
    b"/f1/t1/u1/x%2.mp4",
    b"/f1/t1/u1/x%",
    b"/f1/t1/u1/%c0%ae%c0%ae/x.mp4",  # overlong UTF-8 for "."
    b"/f1/t1/u1/%e0%80%ae/x.mp4",
    b"/f1/t1/u1/%ff.mp4",
    b"/f1/t1/u1/\xc3\xa9.mp4",  # raw non-ASCII bytes
    b"/f1/t1/u1/x%3F.mp4",  # "?" inside a key
    b"/f1/t1/u1/x%23.mp4",  # "#"
    b"/%2e%2e/t1/u1/x.mp4",
    b"/f%31/t1/u1/x.mp4",  # the file id / token segment is never encoded
    b"/../t1/u1/x.mp4",
    b"/f1/..",
    b"/eyJhbGciOiJSUzI1NiJ9.e30.c2ln/t1/u1/../../etc/passwd",
]


@pytest.mark.parametrize(
    "raw_path", TRICKS, ids=[p.decode("latin-1").encode("unicode_escape").decode() for p in TRICKS]
)
async def test_tricks_are_bad_requests(app: EdgeApp, cache: FakeCache, origin: FakeOrigin, raw_path: bytes) -> None:
    origin_calls = len(origin.requests)
    reply = await call(app, "GET", raw_path)
    assert reply.status == 400, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {**reply.json(), "statusCode": 400, "error": "BadRequest", "code": "INVALID_PATH"}
    assert cache.lookups == [] and len(origin.requests) == origin_calls  # refused before any other work


async def test_percent_encoded_names_that_are_legal(app: EdgeApp, cache: FakeCache) -> None:
    cache.add("t1/u1/my file (1).mp4", DATA, file_id="f9")
    reply = await call(app, "GET", b"/f9/t1/u1/my%20file%20%281%29.mp4")
    assert reply.status == 200 and reply.body == DATA
    assert cache.lookups == ["t1/u1/my file (1).mp4"]


async def test_query_string_is_not_part_of_the_key(app: EdgeApp) -> None:
    reply = await call(app, "GET", b"/f1/t1/u1/videos/clip.mp4?x=../../y")
    assert reply.status == 200


@pytest.mark.parametrize(
    ("method", "raw_path", "status", "allow"),
    [
        ("GET", b"/", 404, None),
        ("GET", b"/favicon.ico", 404, None),
        ("GET", b"/_edge/objects/t1/u1/x.mp4", 404, None),
        ("POST", b"/f1/t1/u1/videos/clip.mp4", 405, "GET, HEAD, OPTIONS"),
        ("DELETE", b"/f1/t1/u1/videos/clip.mp4", 405, "GET, HEAD, OPTIONS"),
        ("POST", b"/healthz", 405, "GET, HEAD"),
        ("POST", b"/metrics", 405, "GET"),
        ("GET", b"/_edge/purge", 405, "POST"),
        ("GET", b"/f1/" + b"a/" * 5000 + b"x", 414, None),
    ],
)
async def test_unknown_routes_and_methods(
    app: EdgeApp, method: str, raw_path: bytes, status: int, allow: str | None
) -> None:
    reply = await call(app, method, raw_path)
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["statusCode"] == status
    assert reply.headers.get("allow") == allow


def test_split_object_path() -> None:
    assert split_object_path(b"/abc123/t/u/d/e/f.m3u8") == ("abc123", "t/u/d/e/f.m3u8")
    assert split_object_path(b"/abc/t/u/%C3%A9t%C3%A9.mp4") == ("abc", "t/u/\u00e9t\u00e9.mp4")
    with pytest.raises(HTTPError) as info:
        split_object_path(b"/abc")
    assert info.value.status == 404
