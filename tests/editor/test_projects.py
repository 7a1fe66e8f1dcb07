"""Projects and the action history over real HTTP: CRUD with callbacks, listing, undo/redo by the
rules (table-driven), the history depth, concurrent posts, removal with the project."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from origin.store import Store
from tests.e2e.procs import start_mediaedge
from tests.editor.conftest import EDITOR_ENV, Developer, EditorStack, Receiver, Session, open_session, wait_for
from tests.fixtures.origin_server import OriginProcess

DEPTH = 50
THUMB = base64.b64encode(b"\x89PNG\r\n\x1a\nnot-really-a-picture").decode()


@pytest.fixture(scope="module")
def editor_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorStack]:
    """The editor stack with a history depth of ``DEPTH`` (``MEDIAEDGE_EDITOR_ACTION_HISTORY_DEPTH``)."""
    data_dir = tmp_path_factory.mktemp("projects") / "var"
    origin = OriginProcess(data_dir, env={**EDITOR_ENV, "MEDIAEDGE_EDITOR_ACTION_HISTORY_DEPTH": str(DEPTH)})
    origin.start()
    worker = start_mediaedge(["worker"], origin._env(), data_dir.parent / "worker.log")
    try:
        yield EditorStack(origin, worker)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        origin.stop()


@pytest.fixture
def client(editor_stack: EditorStack, session: Session) -> Iterator[httpx.Client]:
    with editor_stack.client(session.id) as opened:
        yield opened


def new_project(client: httpx.Client, name: str = "cut", **extra: Any) -> str:
    response = client.post(
        "/api/projects", json={"name": name, "data": {"tracks": [1, 2]}, "thumbnail": THUMB, **extra}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _events(receiver: Receiver, event_type: str, project_id: str) -> list[dict[str, Any]]:
    events = [orjson.loads(body) for _, body in receiver.of_type(event_type)]
    return [e for e in events if e["payload"]["projectId"] == project_id]


def test_project_crud_with_callbacks(client: httpx.Client, receiver: Receiver, session: Session) -> None:
    project_id = new_project(client, "holiday", createTime=1_700_000_000_000)
    got = client.get(f"/api/projects/{project_id}").json()
    assert got == {"id": project_id, "name": "holiday", "data": {"tracks": [1, 2]}, "thumbnail": THUMB,
                   "createTime": 1_700_000_000_000, "modifTime": 1_700_000_000_000}  # fmt: skip
    changed = client.patch(f"/api/projects/{project_id}", json={"data": "v2", "modifTime": 1_700_000_001_000})
    assert changed.status_code == 200 and changed.json() == {}
    got = client.get(f"/api/projects/{project_id}").json()
    assert got["data"] == "v2" and got["name"] == "holiday" and got["modifTime"] == 1_700_000_001_000

    creates = wait_for(lambda: _events(receiver, "project_create", project_id), what="project_create")
    assert creates[0]["payload"] == {"projectId": project_id, "thumbnail": THUMB}
    assert creates[0]["userData"] == "user-data-ann" and creates[0]["apiAuthToken"] == session.api_auth_token
    updates = wait_for(lambda: _events(receiver, "project_update", project_id), what="project_update")
    assert updates[0]["payload"] == {"projectId": project_id, "thumbnail": THUMB}

    assert client.delete(f"/api/projects/{project_id}").json() == {}
    for response in (client.get(f"/api/projects/{project_id}"), client.delete(f"/api/projects/{project_id}"),
                     client.patch(f"/api/projects/{project_id}", json={"name": "x"})):  # fmt: skip
        assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": 5}, {"name": "x", "thumbnail": "not base64!"}, {"name": "x", "createTime": "yesterday"}],
)
def test_bad_projects_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/api/projects", json=body)
    assert response.status_code == 400 and response.json()["code"] == "editor.project.invalid"


def test_listing_pages_searches_and_leaves_data_out(client: httpx.Client) -> None:
    ids = [new_project(client, f"list-{n}", createTime=1_800_000_000_000 + n) for n in range(5)]
    new_project(client, "other", createTime=1_800_000_000_100)
    page = client.get("/api/projects", params={"search": "list-", "start_number": 1, "count": 2, "data": 0}).json()
    assert page["total_count"] == 5
    assert [e["id"] for e in page["entries"]] == [ids[3], ids[2]]  # newest first
    assert all("data" not in e for e in page["entries"])
    full = client.get("/api/projects", params={"search": "list-4"}).json()
    assert full["entries"][0]["data"] == {"tracks": [1, 2]}
    assert client.get("/api/projects", params={"count": "many"}).status_code == 400


def test_projects_are_their_users_own(editor_stack: EditorStack, developer: Developer, client: httpx.Client) -> None:
    project_id = new_project(client)
    other = open_session(editor_stack, developer, "bob")
    with editor_stack.client(other.id) as theirs:
        assert theirs.get(f"/api/projects/{project_id}").status_code == 404
        assert project_id not in str(theirs.get("/api/projects").json())
        assert theirs.post("/api/actions", json={"project": project_id, "name": "x"}).status_code == 404


def _history(client: httpx.Client, project_id: str) -> list[tuple[str, bool]]:
    response = client.get("/api/actions", params={"project": project_id})
    assert response.status_code == 200, response.text
    return [(e["name"], e["canceled"]) for e in response.json()["entries"]]


# Each step: an operation (post NAME / undo NAME / redo NAME) and the history after it.
UNDO_REDO = [
    ("post a1", [("a1", False)]),
    ("post a2", [("a1", False), ("a2", False)]),
    ("post a3", [("a1", False), ("a2", False), ("a3", False)]),
    ("undo a3", [("a1", False), ("a2", False), ("a3", True)]),
    ("undo a2", [("a1", False), ("a2", True), ("a3", True)]),
    ("redo a2", [("a1", False), ("a2", False), ("a3", True)]),
    ("post a4", [("a1", False), ("a2", False), ("a4", False)]),  # the redo branch (a3) is gone
    ("undo a4", [("a1", False), ("a2", False), ("a4", True)]),
    ("redo a4", [("a1", False), ("a2", False), ("a4", False)]),
    ("undo a4", [("a1", False), ("a2", False), ("a4", True)]),
    ("undo a2", [("a1", False), ("a2", True), ("a4", True)]),
    ("post a5", [("a1", False), ("a5", False)]),
    ("undo a1", [("a1", True), ("a5", False)]),  # undoing out of order is the editor's business
    ("post a6", [("a5", False), ("a6", False)]),
]


def test_undo_and_redo_follow_the_rules(client: httpx.Client) -> None:
    project_id = new_project(client, "history")
    ids: dict[str, str] = {}
    for step, (operation, expected) in enumerate(UNDO_REDO):
        verb, name = operation.split()
        if verb == "post":
            response = client.post("/api/actions", json={"project": project_id, "name": name, "data": {"step": step}})
            assert response.status_code == 200, response.text
            ids[name] = response.json()["id"]
        else:
            response = client.patch(f"/api/actions/{ids[name]}", json={"canceled": verb == "undo"})
            assert response.status_code == 200 and response.json() == {}, response.text
        assert _history(client, project_id) == expected, operation
    # a3 went with the redo branch: it cannot be redone any more.
    assert client.patch(f"/api/actions/{ids['a3']}", json={"canceled": False}).status_code == 404


def test_action_fields_ids_and_errors(client: httpx.Client) -> None:
    project_id = new_project(client, "fields")
    made = client.post("/api/actions", json={"id": 1632798732, "project": project_id, "name": "trim",
                                             "data": [1, "two"], "createTime": 1_600_000_000_000})  # fmt: skip
    assert made.json() == {"id": "1632798732"}
    undone = client.patch("/api/actions/1632798732", json={"canceled": True, "modifTime": 1_600_000_005_000})
    assert undone.status_code == 200
    (entry,) = client.get("/api/actions", params={"project": project_id}).json()["entries"]
    assert entry == {"id": "1632798732", "name": "trim", "data": [1, "two"], "canceled": True,
                     "createTime": 1_600_000_000_000, "modifTime": 1_600_000_005_000}  # fmt: skip
    client.patch("/api/actions/1632798732", json={"canceled": False})
    duplicate = client.post("/api/actions", json={"id": "1632798732", "project": project_id, "name": "again"})
    assert duplicate.status_code == 400
    assert client.post("/api/actions", json={"name": "no project"}).status_code == 400
    assert client.post("/api/actions", json={"project": "prj_missing", "name": "x"}).status_code == 404
    assert client.patch("/api/actions/nope", json={"canceled": True}).status_code == 404
    assert client.patch("/api/actions/1632798732", json={"canceled": "yes"}).status_code == 400
    assert client.get("/api/actions").status_code == 400
    assert client.get("/api/actions", params={"project": "prj_missing"}).status_code == 404


def test_history_depth_drops_the_oldest_and_the_project_takes_its_actions_along(
    client: httpx.Client, editor_stack: EditorStack
) -> None:
    project_id = new_project(client, "deep")
    for n in range(DEPTH + 3):
        assert client.post("/api/actions", json={"project": project_id, "name": f"n{n}"}).status_code == 200
    names = [name for name, _ in _history(client, project_id)]
    assert names == [f"n{n}" for n in range(3, DEPTH + 3)]
    client.delete(f"/api/projects/{project_id}")
    assert client.get("/api/actions", params={"project": project_id}).status_code == 404
    assert _rows(editor_stack, project_id) == 0


def _rows(stack: EditorStack, project_id: str) -> int:
    import asyncio

    import sqlalchemy as sa

    from mediaedge.settings import load_settings
    from origin.store import open_store
    from origin.store.schema import editor_actions

    async def count() -> int:
        store: Store = await open_store(load_settings(environ=stack.env).database.url)
        try:
            query = (
                sa.select(sa.func.count()).select_from(editor_actions).where(editor_actions.c.project_id == project_id)
            )
            return int((await store.db.execute(query)).scalar_one())
        finally:
            await store.close()

    return asyncio.run(count())


def test_concurrent_posts_keep_one_consistent_order(
    client: httpx.Client, editor_stack: EditorStack, session: Session
) -> None:
    project_id = new_project(client, "busy")

    def post(n: int) -> str:
        with editor_stack.client(session.id) as own:
            response = own.post("/api/actions", json={"project": project_id, "name": f"c{n}"})
            assert response.status_code == 200, response.text
            return str(response.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(24)))
    entries = client.get("/api/actions", params={"project": project_id}).json()["entries"]
    assert sorted(e["id"] for e in entries) == sorted(ids) and len(set(ids)) == 24
    again = client.get("/api/actions", params={"project": project_id}).json()["entries"]
    assert [e["id"] for e in again] == [e["id"] for e in entries]


@pytest.mark.anyio
async def test_concurrent_actions_get_consecutive_positions_on_both_databases(store: Store) -> None:
    import asyncio

    tenant, _ = await store.tenants.create("acme", "default")
    project = await store.editor_work.create_project(tenant.id, "u1", name="p", create_time=1, modif_time=1)
    made = await asyncio.gather(
        *(
            store.editor_work.add_action(
                tenant.id, "u1", project.id, 1000, action_id=None, name=f"x{n}", create_time=n, modif_time=n
            )
            for n in range(20)
        )  # fmt: skip
    )
    positions = sorted(a.position for a in made if a is not None)
    assert positions == list(range(1, 21))
    assert [a.position for a in await store.editor_work.actions(project.id)] == positions


def test_a_media_file_used_in_a_project_is_kept_unless_forced(
    client: httpx.Client, editor_stack: EditorStack, luma_clip: Any
) -> None:
    with luma_clip.open("rb") as body:
        uploaded = httpx.post(f"{editor_stack.url}/upload/direct-upload", headers=editor_stack.origin.headers,
                              files={"file": ("used.mp4", body)}, timeout=60)  # fmt: skip
    media_id = uploaded.json()["id"]
    project_id = new_project(client, "uses it", data={"clips": [{"src": media_id}]})
    refused = client.delete(f"/api/mediafiles/{media_id}")
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "used_in_projects" and project_id in refused.json()["error"]["message"]
    assert client.get(f"/api/mediafiles/{media_id}").status_code == 200
    assert client.delete(f"/api/mediafiles/{media_id}", params={"force": 1}).json() == {"error": None}
    assert client.get(f"/api/mediafiles/{media_id}").status_code == 404


@pytest.mark.anyio
async def test_projects_using_a_media_file_on_both_databases(store: Store) -> None:
    tenant, _ = await store.tenants.create("acme", "default")
    uses = await store.editor_work.create_project(
        tenant.id, "u1", name="a", data={"clips": [{"src": "mda_01ABC"}]}, create_time=1, modif_time=1
    )
    await store.editor_work.create_project(
        tenant.id, "u2", name="b", data={"x": "mda_other"}, create_time=2, modif_time=2
    )
    assert await store.editor_work.projects_using(tenant.id, "mda_01ABC") == [uses.id]
    assert await store.editor_work.projects_using(tenant.id, "mda_%") == []  # LIKE wildcards are literal
