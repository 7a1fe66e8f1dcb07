"""The token format: signing, verification, and a table of JWT attacks that must all fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import jwt
import pytest

from mediaedge.tokens import (
    Claims,
    KeySet,
    SigningKey,
    TokenError,
    generate_signing_key,
    jwks,
    looks_like_token,
    sign_token,
)

NOW = 1_700_000_000
KEY = "t1/u1/videos/lecture.mp4"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, object], payload: dict[str, object], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


@pytest.fixture(scope="module", params=["RS256", "EdDSA"])
def key(request: pytest.FixtureRequest) -> SigningKey:
    return generate_signing_key(request.param)


@pytest.fixture(scope="module")
def keyset(key: SigningKey) -> KeySet:
    return KeySet.from_jwks(jwks([key]))


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"exp": NOW + 3600, "iat": NOW, "tid": "t1", "path": KEY}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(key: SigningKey, payload: dict[str, object], **header: object) -> str:
    return jwt.encode(payload, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid, **header})


# -- valid tokens ------------------------------------------------------------------------------------


def test_exact_token_round_trip(key: SigningKey, keyset: KeySet) -> None:
    token = sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW + 60, now=NOW)
    assert looks_like_token(token)
    assert jwt.get_unverified_header(token)["kid"] == key.kid
    verified = keyset.verify(token, now=NOW + 1)
    assert (verified.tid, verified.path, verified.scope, verified.exp, verified.iat) == (
        "t1",
        KEY,
        "exact",
        NOW + 60,
        NOW,
    )
    assert verified.allows(KEY, "203.0.113.9")
    assert not verified.allows(KEY + "x", "203.0.113.9")
    assert "scope" not in jwt.decode(token, options={"verify_signature": False})


def test_prefix_token_covers_the_stream(key: SigningKey, keyset: KeySet) -> None:
    token = sign_token(key, tenant_id="t1", path="t1/u1/hls/", scope="prefix", expires_at=NOW + 60, now=NOW)
    verified = keyset.verify(token, now=NOW)
    assert verified.allows("t1/u1/hls/master.m3u8", "::1")
    assert verified.allows("t1/u1/hls/720p/seg-001.m4s", "::1")
    assert not verified.allows("t1/u1/hlsx/seg.ts", "::1")
    assert not verified.allows("t1/u1/other.mp4", "::1")
    # ".." cannot climb out of the prefix: keys with dot segments are never valid
    assert not verified.allows("t1/u1/hls/../secret.mp4", "::1")
    assert not verified.allows("t1/u1/hls/./x.ts", "::1")
    assert not verified.allows("t1/u1/hls//x.ts", "::1")


@pytest.mark.parametrize(
    ("bound", "client", "allowed"),
    [
        ("203.0.113.9", "203.0.113.9", True),
        ("203.0.113.9", "203.0.113.10", False),
        ("203.0.113.0/24", "203.0.113.77", True),
        ("203.0.113.0/24", "198.51.100.1", False),
        ("203.0.113.9", "::ffff:203.0.113.9", True),
        ("2001:db8::/32", "2001:db8::1", True),
        ("2001:db8::/32", "203.0.113.9", False),
        ("203.0.113.9", "not-an-ip", False),
        ("203.0.113.9", "", False),
    ],
)
def test_ip_binding(key: SigningKey, keyset: KeySet, bound: str, client: str, allowed: bool) -> None:
    token = sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW + 60, ip=bound, now=NOW)
    assert keyset.verify(token, now=NOW).allows(KEY, client) is allowed


def test_sign_token_refuses_bad_input(key: SigningKey) -> None:
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path="t1/u1/hls", scope="prefix", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path="t1/../t2/x.mp4", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path="t2/u/x.mp4", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path=KEY, scope="everything", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW + 60, ip="not-an-ip", now=NOW)


def test_exact_token_is_bound_to_its_file(key: SigningKey, keyset: KeySet) -> None:
    token = sign_token(key, tenant_id="t1", path=KEY, file_id="file-1", expires_at=NOW + 60, now=NOW)
    verified = keyset.verify(token, now=NOW)
    assert (verified.fid, verified.aid) == ("file-1", None)
    assert verified.allows_content("file-1", "")
    assert not verified.allows_content("file-2", "")  # another file uploaded under the same key
    unbound = keyset.verify(sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW + 60, now=NOW), now=NOW)
    assert not unbound.allows_content("file-1", "")  # an exact token without a file id opens nothing


def test_prefix_token_is_bound_to_its_stream(key: SigningKey, keyset: KeySet) -> None:
    path = "t1/u1/videos/lecture.mp4.stream/"
    token = sign_token(key, tenant_id="t1", path=path, scope="prefix", asset_id="s1", expires_at=NOW + 60, now=NOW)
    verified = keyset.verify(token, now=NOW)
    assert (verified.fid, verified.aid) == (None, "s1")
    assert verified.allows_content("src", "s1")
    assert not verified.allows_content("src", "s2") and not verified.allows_content("src", "")
    directory = sign_token(key, tenant_id="t1", path="t1/u1/", scope="prefix", expires_at=NOW + 60, now=NOW)
    assert keyset.verify(directory, now=NOW).allows_content("any", "")  # a plain directory: whatever is in it


@pytest.mark.parametrize(
    "payload",
    [
        claims(fid=""),
        claims(fid=7),
        claims(aid="s1"),  # aid on an exact token
        claims(path="t1/u1/", scope="prefix", fid="file-1"),  # fid on a prefix token
        claims(path="t1/u1/", scope="prefix", aid=["s1"]),
    ],
    ids=["empty-fid", "number-fid", "aid-on-exact", "fid-on-prefix", "list-aid"],
)
def test_ill_formed_content_bindings_are_refused(key: SigningKey, keyset: KeySet, payload: dict[str, object]) -> None:
    with pytest.raises(TokenError) as refused:
        keyset.verify(signed(key, payload), now=NOW)
    assert refused.value.code == "TOKEN_CLAIMS"


def test_sign_token_refuses_misplaced_bindings(key: SigningKey) -> None:
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path="t1/u1/", scope="prefix", file_id="f", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path=KEY, asset_id="s", expires_at=NOW + 60, now=NOW)
    with pytest.raises(ValueError):
        sign_token(key, tenant_id="t1", path=KEY, file_id="", expires_at=NOW + 60, now=NOW)


def test_generate_signing_key_shapes() -> None:
    rsa_key, ed_key = generate_signing_key("RS256"), generate_signing_key("EdDSA")
    assert rsa_key.public_jwk["kty"] == "RSA" and rsa_key.public_jwk["alg"] == "RS256"
    assert ed_key.public_jwk == {**ed_key.public_jwk, "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"}
    assert rsa_key.kid != generate_signing_key("RS256").kid
    assert "d" not in rsa_key.public_jwk and "d" not in ed_key.public_jwk
    with pytest.raises(ValueError):
        generate_signing_key("HS256")


def test_keyset_from_jwks_mixes_algorithms_and_skips_unusable_entries() -> None:
    rsa_key, ed_key = generate_signing_key("RS256"), generate_signing_key("EdDSA")
    document = jwks([rsa_key, ed_key.public_jwk])
    document["keys"] += [
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},  # symmetric: never a verifying key
        {**ed_key.public_jwk, "kid": "../../etc/passwd"},  # kid outside the allowed alphabet
        {**ed_key.public_jwk, "kid": "enc", "use": "enc"},
        "not-a-key",
    ]
    keyset = KeySet.from_jwks(document)
    assert keyset.kids == {rsa_key.kid, ed_key.kid}
    for k in (rsa_key, ed_key):
        token = sign_token(k, tenant_id="t1", path=KEY, expires_at=NOW + 60, now=NOW)
        assert keyset.verify(token, now=NOW).kid == k.kid
    for document in ({"nokeys": []}, [], "keys"):
        with pytest.raises(ValueError):
            KeySet.from_jwks(document)


def test_claims_time_checks(key: SigningKey, keyset: KeySet) -> None:
    verified = keyset.verify(sign_token(key, tenant_id="t1", path=KEY, expires_at=NOW + 60, now=NOW), now=NOW)
    verified.check_time(NOW + 59)
    with pytest.raises(TokenError) as info:
        verified.check_time(NOW + 60)
    assert info.value.code == "TOKEN_EXPIRED"
    assert isinstance(verified, Claims)


# -- attacks -----------------------------------------------------------------------------------------

Attack = Callable[[SigningKey], str]


def _alg_none(k: SigningKey) -> str:
    return forge({"alg": "none", "typ": "JWT", "kid": k.kid}, claims())


def _alg_none_capitalised(k: SigningKey) -> str:
    return forge({"alg": "None", "kid": k.kid}, claims())


def _hs256_with_public_key(k: SigningKey) -> str:
    """The classic confusion: HMAC keyed with the public key the edge knows."""
    secret = json.dumps(k.public_jwk).encode()
    header = b64(json.dumps({"alg": "HS256", "kid": k.kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def _hs256_with_public_pem(k: SigningKey) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(k.private_pem.encode(), None)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "kid": k.kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def _embedded_jwk(k: SigningKey) -> str:
    """Signed by the attacker's own key, which the header offers as ``jwk``/``jku``/``x5u``."""
    attacker = generate_signing_key(k.algorithm)
    return jwt.encode(
        claims(),
        attacker.private_pem,
        algorithm=k.algorithm,
        headers={
            "kid": k.kid,
            "jwk": attacker.public_jwk,
            "jku": "https://evil.example/jwks.json",
            "x5u": "https://evil.example/cert.pem",
        },
    )


def _attacker_kid(k: SigningKey) -> str:
    attacker = generate_signing_key(k.algorithm)
    return signed(attacker, claims(), jku="https://evil.example/jwks.json")


def _kid_traversal(k: SigningKey) -> str:
    return signed(k, claims(), kid="../../../../dev/null")


def _kid_missing(k: SigningKey) -> str:
    return jwt.encode(claims(), k.private_pem, algorithm=k.algorithm)


def _kid_not_a_string(k: SigningKey) -> str:
    return forge({"alg": k.algorithm, "kid": ["x"]}, claims(), b"sig")


def _other_algorithm_same_kid(k: SigningKey) -> str:
    other = generate_signing_key("EdDSA" if k.algorithm == "RS256" else "RS256")
    return jwt.encode(claims(), other.private_pem, algorithm=other.algorithm, headers={"kid": k.kid})


def _expired(k: SigningKey) -> str:
    return signed(k, claims(exp=NOW - 1, iat=NOW - 3600))


def _expires_now(k: SigningKey) -> str:
    return signed(k, claims(exp=NOW))


def _not_before_future(k: SigningKey) -> str:
    return signed(k, claims(nbf=NOW + 600))


def _issued_in_future(k: SigningKey) -> str:
    return signed(k, claims(iat=NOW + 600, exp=NOW + 7200))


def _missing_exp(k: SigningKey) -> str:
    return signed(k, claims(exp=None))


def _missing_iat(k: SigningKey) -> str:
    return signed(k, claims(iat=None))


def _missing_tid(k: SigningKey) -> str:
    return signed(k, claims(tid=None))


def _string_exp(k: SigningKey) -> str:
    return signed(k, claims(exp=str(NOW + 3600)))


def _tampered_payload(k: SigningKey) -> str:
    token = signed(k, claims())
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(claims(path='t1/u1/videos/other.mp4')).encode())}.{signature}"


def _tampered_signature(k: SigningKey) -> str:
    token = signed(k, claims())
    header, payload, signature = token.split(".")
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    flipped[0] ^= 1
    return f"{header}.{payload}.{b64(bytes(flipped))}"


def _stripped_signature(k: SigningKey) -> str:
    header, payload, _ = signed(k, claims()).split(".")
    return f"{header}.{payload}."


def _path_outside_tenant(k: SigningKey) -> str:
    return signed(k, claims(tid="t1", path="t2/u1/file.mp4"))


def _prefix_without_slash(k: SigningKey) -> str:
    return signed(k, claims(path="t1/u1", scope="prefix"))


def _prefix_with_dotdot(k: SigningKey) -> str:
    return signed(k, claims(path="t1/../", scope="prefix"))


def _unknown_scope(k: SigningKey) -> str:
    return signed(k, claims(scope="all"))


def _bad_ip_claim(k: SigningKey) -> str:
    return signed(k, claims(ip="everywhere"))


def _critical_extension(k: SigningKey) -> str:
    return signed(k, claims(), crit=["exp"])


def _header_not_json(k: SigningKey) -> str:
    return ".".join(b64(part) for part in (b'{"alg":', b"{}", b"sig"))


def _payload_not_json(k: SigningKey) -> str:
    return jwt.api_jws.encode(b"not json", k.private_pem, algorithm=k.algorithm, headers={"kid": k.kid})


def _payload_not_object(k: SigningKey) -> str:
    return jwt.api_jws.encode(b"[1, 2]", k.private_pem, algorithm=k.algorithm, headers={"kid": k.kid})


ATTACKS: list[tuple[Attack, str]] = [
    (_alg_none, "TOKEN_ALGORITHM"),
    (_alg_none_capitalised, "TOKEN_ALGORITHM"),
    (_hs256_with_public_key, "TOKEN_ALGORITHM"),
    (_hs256_with_public_pem, "TOKEN_ALGORITHM"),
    (_embedded_jwk, "TOKEN_INVALID"),
    (_attacker_kid, "TOKEN_KEY_UNKNOWN"),
    (_kid_traversal, "TOKEN_KEY_UNKNOWN"),
    (_kid_missing, "TOKEN_KEY_UNKNOWN"),
    (_kid_not_a_string, "TOKEN_MALFORMED"),
    (_other_algorithm_same_kid, "TOKEN_ALGORITHM"),
    (_expired, "TOKEN_EXPIRED"),
    (_expires_now, "TOKEN_EXPIRED"),
    (_not_before_future, "TOKEN_NOT_YET_VALID"),
    (_issued_in_future, "TOKEN_NOT_YET_VALID"),
    (_missing_exp, "TOKEN_CLAIMS"),
    (_missing_iat, "TOKEN_CLAIMS"),
    (_missing_tid, "TOKEN_CLAIMS"),
    (_string_exp, "TOKEN_CLAIMS"),
    (_tampered_payload, "TOKEN_INVALID"),
    (_tampered_signature, "TOKEN_INVALID"),
    (_stripped_signature, "TOKEN_INVALID"),
    (_path_outside_tenant, "TOKEN_CLAIMS"),
    (_prefix_without_slash, "TOKEN_CLAIMS"),
    (_prefix_with_dotdot, "TOKEN_CLAIMS"),
    (_unknown_scope, "TOKEN_CLAIMS"),
    (_bad_ip_claim, "TOKEN_CLAIMS"),
    (_critical_extension, "TOKEN_MALFORMED"),
    (_header_not_json, "TOKEN_MALFORMED"),
    (_payload_not_json, "TOKEN_MALFORMED"),
    (_payload_not_object, "TOKEN_CLAIMS"),
]


@pytest.mark.parametrize(("attack", "code"), ATTACKS, ids=[a.__name__.strip("_") for a, _ in ATTACKS])
def test_attack_is_refused(key: SigningKey, keyset: KeySet, attack: Attack, code: str) -> None:
    with pytest.raises(TokenError) as info:
        keyset.verify(attack(key), now=NOW)
    assert info.value.code == code


def test_token_for_another_tenants_path_does_not_allow(key: SigningKey, keyset: KeySet) -> None:
    token = sign_token(key, tenant_id="t2", path="t2/u1/file.mp4", expires_at=NOW + 60, now=NOW)
    verified = keyset.verify(token, now=NOW)
    assert verified.tid == "t2"
    assert not verified.allows(KEY, "127.0.0.1")


def test_verify_does_not_fetch_header_urls(key: SigningKey, keyset: KeySet, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("verification must not touch the network")

    monkeypatch.setattr("socket.create_connection", no_network)
    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(TokenError):
        keyset.verify(_embedded_jwk(key), now=NOW)


def test_looks_like_token() -> None:
    assert not looks_like_token("a1b2c3d4e5f6a1b2c3d4e5f6")
    assert not looks_like_token("eyJhbGciOiJub25lIn0")
    assert looks_like_token("eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.")
    assert not looks_like_token("eyJ" + "a" * 5000 + ".b.c")
