"""GET /files: a tenant's stored files, newest first, filters, keyset cursor paging."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from origin.store import FileMeta
from origin.store.schema import files

pytestmark = pytest.mark.anyio

T0 = 1_750_000_000.0


async def _file(state, tenant_id: str, name: str, mime: str, at: float, user: str = "u1") -> str:
    record, _ = await state.store.files.register(
        tenant_id,
        "default",
        f"{tenant_id}/{user}/{name}",
        name,
        user,
        False,
        FileMeta(size=len(name), etag="e", mime=mime),
    )
    await state.store.db.execute(sa.update(files).where(files.c.id == record.id).values(created_at=at))
    return record.id


async def _all_pages(client, headers, **params) -> list[dict]:
    seen, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/files", headers=headers, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += body["files"]
        cursor = body["nextCursor"]
        if cursor is None:
            return seen


async def test_pages_filters_and_tenancy(origin_client, origin_state, tenant):
    tid = tenant.tenant.id
    ids = [await _file(origin_state, tid, f"clip{n}.mp4", "video/mp4", T0 + n) for n in range(7)]
    same_time = [await _file(origin_state, tid, f"talk{n}.mp3", "audio/mpeg", T0 + 100) for n in range(3)]
    notes = await _file(origin_state, tid, "Notes_100%.pdf", "application/pdf", T0 + 50, user="u2")
    other, _ = await origin_state.store.tenants.create("other", origin_state.settings.storage.default)
    await _file(origin_state, other.id, "theirs.mp4", "video/mp4", T0 + 200)

    listed = await _all_pages(origin_client, tenant.headers, limit="3")
    assert len(listed) == 11 and len({f["id"] for f in listed}) == 11  # each file once across pages
    assert [f["id"] for f in listed][:3] == sorted(same_time, reverse=True)  # ties ordered by id
    assert [f["id"] for f in listed][-7:] == ids[::-1]
    first = listed[-1]
    assert first["url"] == f"{origin_state.settings.edge.url}/{first['id']}/{first['key']}"
    assert first["file_type"] == "video/mp4" and first["createdAt"].endswith("Z")

    # A file added meanwhile does not shift the pages after the cursor.
    page = (await origin_client.get("/files", headers=tenant.headers, params={"limit": "5"})).json()
    await _file(origin_state, tid, "new.mp4", "video/mp4", T0 + 500)
    rest = (
        await origin_client.get("/files", headers=tenant.headers, params={"limit": "100", "cursor": page["nextCursor"]})
    ).json()
    assert [f["id"] for f in page["files"] + rest["files"]] == [f["id"] for f in listed]

    assert {f["id"] for f in await _all_pages(origin_client, tenant.headers, type="audio")} == set(same_time)
    assert [f["id"] for f in await _all_pages(origin_client, tenant.headers, type="other")] == [notes]
    assert [f["id"] for f in await _all_pages(origin_client, tenant.headers, search="notes_100%")] == [notes]
    assert await _all_pages(origin_client, tenant.headers, search="100%x") == []
    assert [f["id"] for f in await _all_pages(origin_client, tenant.headers, userId="u2")] == [notes]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"limit": "0"}, "LIMIT_INVALID"),
        ({"limit": "101"}, "LIMIT_INVALID"),
        ({"limit": "x"}, "LIMIT_INVALID"),
        ({"type": "movie"}, "TYPE_INVALID"),
        ({"cursor": "!!"}, "CURSOR_INVALID"),
        ({"cursor": "WzFd"}, "CURSOR_INVALID"),
    ],
)
async def test_bad_queries_are_refused(origin_client, tenant, params, code):
    answer = await origin_client.get("/files", headers=tenant.headers, params=params)
    assert answer.status_code == 400 and answer.json()["code"] == code


async def test_needs_a_key(origin_client):
    assert (await origin_client.get("/files")).json()["code"] == "API_KEY_REQUIRED"
    assert (await origin_client.get("/files", headers={"API-Key": "tk_nope"})).status_code == 401
