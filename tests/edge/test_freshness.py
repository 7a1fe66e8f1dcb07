"""edge.freshness on its own: directive parsing, lifetimes, age, storability, usability, Cache-Status."""

from __future__ import annotations

import math

import pytest

from edge import freshness as f
from edge.cache.meta import StoredResponse
from edge.conditional import http_date

NOW = 1_700_000_000.0


def stored(headers: dict[str, str], status: int = 200, request: f.ClientRequest | None = None) -> StoredResponse:
    fields = [("date", http_date(NOW)), *headers.items()]
    return f.stored_response(status, fields, request or f.ClientRequest(), NOW, NOW)


def test_parse_directives() -> None:
    assert f.parse_directives('Max-Age=60, no-cache="Set-Cookie", public, max-age=5') == {
        "max-age": "60",
        "no-cache": "Set-Cookie",
        "public": None,
    }
    assert f.delta_seconds("99999999999") == 2**31
    assert f.delta_seconds("-1") is None and f.delta_seconds("1.5") is None


@pytest.mark.parametrize(
    ("headers", "status", "lifetime", "heuristic"),
    [
        ({"cache-control": "max-age=60, s-maxage=5"}, 200, 5, False),
        ({"cache-control": "max-age=60"}, 200, 60, False),
        ({"expires": http_date(NOW + 30)}, 200, 30, False),
        ({"expires": "0"}, 200, 0, False),  # invalid Expires = already expired
        ({"cache-control": "max-age=7", "expires": http_date(NOW + 30)}, 200, 7, False),
        ({"last-modified": http_date(NOW - 1000)}, 200, 100, True),
        ({"last-modified": http_date(NOW - 10 * 86400 * 10)}, 200, f.HEURISTIC_CAP, True),
        ({"last-modified": http_date(NOW - 1000)}, 302, 0, False),  # not cacheable by default
        ({}, 200, 0, False),
    ],
)
def test_freshness_lifetime(headers: dict[str, str], status: int, lifetime: float, heuristic: bool) -> None:
    s = stored(headers, status)
    assert (s.lifetime, s.heuristic) == (lifetime, heuristic)


def test_cdn_cache_control_replaces_cache_control() -> None:
    s = stored({"cache-control": "no-store", "cdn-cache-control": "max-age=9"})
    assert (s.stored, s.lifetime) == (True, 9)
    s = stored({"cache-control": "max-age=60", "cdn-cache-control": "no-store"})
    assert (s.stored, s.reason) == (False, "no-store")
    s = stored({"expires": http_date(NOW + 30), "cdn-cache-control": "public"})  # Expires ignored with it
    assert (s.stored, s.lifetime) == (True, 0)


@pytest.mark.parametrize(
    ("value", "directives"),
    [
        ("max-age=60", {"max-age": "60"}),
        ("max-age=60, public, no-cache", {"max-age": "60", "public": None, "no-cache": None}),
        ('no-cache="set-cookie";x=1, s-maxage=5', {"no-cache": "set-cookie", "s-maxage": "5"}),  # parameters ignored
        ("max-age=60, unknown=tok, other", {"max-age": "60"}),  # unknown directives ignored
        ("max-age=99999999999", {"max-age": str(2**31)}),
        ('max-age="60"', None),  # wrong type: a String, not an Integer
        ("max-age=1.5", None),  # a Decimal
        ("max-age=-1", None),
        ("max-age=60s", None),  # not a Structured Field
        ("no-store=?0", None),  # no-store is only ever true
        ("no-store=1", None),
        ("no-cache=tok", None),  # a Token, not a String
        ("Max-Age=60", None),  # keys are lower case
        ("max-age=60,", None),
        ("max-age=60, &&", None),
        ("", None),
        ("max-age=60, café", None),
    ],
)
def test_targeted_directives_are_a_structured_field_dictionary(value: str, directives: f.Directives | None) -> None:
    assert f.targeted_directives(value) == directives


@pytest.mark.parametrize("value", ['max-age="600"', "max-age=600, %%", "max-age=1.5", "no-store=?0"])
def test_an_invalid_cdn_cache_control_is_ignored_as_a_whole(value: str) -> None:
    s = stored({"cache-control": "max-age=30", "cdn-cache-control": value})
    assert (s.stored, s.lifetime) == (True, 30)  # Cache-Control applies


@pytest.mark.parametrize(
    ("headers", "status", "request_", "reason"),
    [
        ({"cache-control": "no-store"}, 200, f.ClientRequest(), "no-store"),
        ({"cache-control": "max-age=5"}, 200, f.ClientRequest(no_store=True), "no-store"),
        ({"cache-control": 'private="x", max-age=5'}, 200, f.ClientRequest(), "private"),
        ({"cache-control": "max-age=5"}, 200, f.ClientRequest(authorization=True), "authorization"),
        ({"cache-control": "public"}, 200, f.ClientRequest(authorization=True), ""),
        ({"cache-control": "max-age=5", "vary": "*"}, 200, f.ClientRequest(), "vary-star"),
        ({}, 500, f.ClientRequest(), "status"),
        ({"cache-control": "max-age=5"}, 500, f.ClientRequest(), ""),
        ({}, 404, f.ClientRequest(), ""),
    ],
)
def test_storability(headers: dict[str, str], status: int, request_: f.ClientRequest, reason: str) -> None:
    s = stored(headers, status, request_)
    assert (s.stored, s.reason) == (not reason, reason)


def test_initial_age_takes_the_larger_estimate() -> None:
    assert f.initial_age("10", NOW - 30, NOW, NOW + 2) == 32  # apparent age
    assert f.initial_age("10", NOW, NOW, NOW + 2) == 12  # Age + response delay
    assert f.initial_age(None, None, NOW, NOW) == 0


@pytest.mark.parametrize(
    ("cc", "age", "request_", "use"),
    [
        ("max-age=60", 59, f.ClientRequest(), "fresh"),
        ("max-age=60", 61, f.ClientRequest(), "stale"),
        ("max-age=60, stale-while-revalidate=10", 65, f.ClientRequest(), "swr"),
        ("max-age=60, stale-while-revalidate=10, must-revalidate", 65, f.ClientRequest(), "stale"),
        ("max-age=60", 10, f.ClientRequest(no_cache=True), "request"),
        ("max-age=60", 10, f.ClientRequest(max_age=5), "request"),
        ("max-age=60", 55, f.ClientRequest(min_fresh=10), "request"),
        ("max-age=60", 90, f.ClientRequest(max_stale=math.inf), "fresh"),
        ("max-age=60", 90, f.ClientRequest(max_stale=10), "stale"),
        ("max-age=60, no-cache", 1, f.ClientRequest(), "stale"),
    ],
)
def test_usability(cc: str, age: float, request_: f.ClientRequest, use: str) -> None:
    assert f.usability(stored({"cache-control": cc}), age, request_) == use


def test_stale_on_error() -> None:
    sie = stored({"cache-control": "max-age=10, stale-if-error=20"})
    assert f.may_serve_stale_on_error(sie, 25, disconnected=False)
    assert not f.may_serve_stale_on_error(sie, 40, disconnected=False)
    plain = stored({"cache-control": "max-age=10"})
    assert not f.may_serve_stale_on_error(plain, 11, disconnected=False)
    assert f.may_serve_stale_on_error(plain, 11, disconnected=True)
    strict = stored({"cache-control": "max-age=10, must-revalidate"})
    assert not f.may_serve_stale_on_error(strict, 11, disconnected=True)


def test_304_update_keeps_content_type_and_recomputes_freshness() -> None:
    s = stored({"cache-control": "max-age=5", "content-type": "text/css", "x-v": "1"})
    u = f.updated(s, [("Cache-Control", "max-age=99"), ("X-V", "2"), ("Content-Type", "text/html")], NOW, NOW)
    assert (u.lifetime, u.header("x-v"), u.header("content-type")) == (99, "2", "text/css")


def test_vary_and_variant_keys() -> None:
    request = f.ClientRequest(forward=(("accept-encoding", "gzip"),))
    s = stored({"vary": "Accept-Encoding, Origin", "cache-control": "max-age=5"}, request=request)
    assert s.vary == (("accept-encoding", "gzip"), ("origin", ""))
    assert f.vary_matches(s, request) and not f.vary_matches(s, f.ClientRequest())
    assert f.variant_key("/a", s.vary) == "/a#accept-encoding:gzip\norigin:"


def test_cache_status_values() -> None:
    assert f.cache_status(hit=True, ttl=41.7) == b"mediaedge; hit; ttl=41"
    assert f.cache_status(fwd="uri-miss", fwd_status=200, stored=True, ttl=60) == (
        b"mediaedge; fwd=uri-miss; fwd-status=200; stored; ttl=60"
    )
    assert f.cache_status(fwd="stale", fwd_status=304) == b"mediaedge; fwd=stale; fwd-status=304"
    assert f.cache_status(fwd="method") == b"mediaedge; fwd=method"
