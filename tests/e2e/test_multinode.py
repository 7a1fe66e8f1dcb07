"""A multi-node deployment on one machine: two origin API processes, two workers and two edges as
subprocesses (``python -m mediaedge origin|worker|edge``), each with its own data dir, sharing one
PostgreSQL database, one S3 bucket (moto) and the edge secret — as on separate machines.

One test walks the cluster through its promises: migrations race safely at start; an upload through
origin A is signed by origin B and served by both edges; a transcode is claimed by exactly one worker;
a worker killed mid-job loses it to the other; a delete through B purges both edges (each registered
through a different origin); every webhook reaches an idempotent receiver exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from origin.store import Store, open_store
from origin.store.schema import jobs, webhook_deliveries
from tests.e2e.procs import start_mediaedge, wait_healthy
from tests.fixtures.db import fresh_pg_database
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.media import make_clip
from tests.fixtures.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

SECRET = secrets.token_urlsafe(24)
LEASE_SECONDS = 3.0
LADDER = [{"resolution": "240p"}]  # one small rendition keeps transcodes short


@dataclass
class Node:
    """One mediaedge process with its own data dir and log."""

    role: str
    name: str
    env: dict[str, str]
    base: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.base / f"{self.name}.log"

    def start(self) -> None:
        env = {**os.environ, **self.env, "MEDIAEDGE_DATA_DIR": str(self.base / self.name)}
        if self.role in ("origin", "edge"):
            env[f"MEDIAEDGE_{self.role.upper()}_PORT"] = str(self.port)
        self.proc = start_mediaedge([self.role], env, self.log, start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process and its children (a killed worker's ffmpeg dies with it, as with its machine)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    async def wait_up(self, timeout: float = 40.0) -> None:
        assert self.proc is not None
        await asyncio.to_thread(wait_healthy, self.url, self.proc, self.log, timeout)  # the loop serves the receiver


@dataclass
class Receiver:
    """The tenant's webhook endpoint: idempotent, it processes each ``Webhook-Id`` once."""

    requests: list[str] = field(default_factory=list)
    processed: dict[str, bytes] = field(default_factory=dict)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        delivery_id = request.headers["webhook-id"]
        self.requests.append(delivery_id)
        self.processed.setdefault(delivery_id, body)
        await PlainTextResponse("ok")(scope, receive, send)


@dataclass
class Cluster:
    origins: list[Node]
    workers: list[Node]
    edges: list[Node]
    store: Store
    headers: dict[str, str]
    receiver: Receiver


def write_config(path: Path, db_url: str, s3: dict[str, Any], receiver_port: int) -> Path:
    backend = "\n".join(f"{key} = {json.dumps(value)}" for key, value in s3.items())
    path.write_text(
        f"""
demo_tenant = false
[database]
url = "{db_url}"
[storage]
default = "s3"
[storage.backends.s3]
{backend}
[cluster]
edge_secret = "{SECRET}"
[jobs]
concurrency = 1
lease_seconds = {LEASE_SECONDS}
heartbeat_seconds = 0.5
poll_interval = 0.1
[webhooks]
poll_interval = 0.1
[net]
allow = ["127.0.0.1:{receiver_port}"]
"""
    )
    return path


@pytest.fixture
def pg_url(pg_admin_dsn: str) -> Iterator[str]:
    with fresh_pg_database(pg_admin_dsn) as url:
        yield url


@pytest.fixture
async def cluster(tmp_path: Path, pg_url: str, s3_backend_options: dict[str, Any]) -> AsyncIterator[Cluster]:
    receiver, receiver_port = Receiver(), free_port()
    config = write_config(tmp_path / "cluster.toml", pg_url, s3_backend_options, receiver_port)
    common = {"MEDIAEDGE_CONFIG": str(config)}
    edges = [Node("edge", f"edge{n}", dict(common), tmp_path) for n in (1, 2)]
    origin_env = {**common, "MEDIAEDGE_EDGE_PUBLIC_URL": edges[0].url}
    origins = [Node("origin", f"origin-{n}", dict(origin_env), tmp_path) for n in "ab"]
    workers = [Node("worker", f"worker{n}", dict(common), tmp_path) for n in (1, 2)]
    for edge, origin in zip(edges, origins, strict=True):
        edge.env["MEDIAEDGE_EDGE_ORIGIN_URL"] = origin.url
    nodes = [*origins, *workers, *edges]
    async with serve_asgi(receiver, receiver_port) as receiver_url:
        store: Store | None = None
        try:
            for node in [*origins, *workers]:  # all at once on an empty database: they race to migrate
                node.start()
            for origin in origins:
                await origin.wait_up()
            for edge in edges:  # started once the origins answer, so their first registration succeeds
                edge.start()
            for edge in edges:
                await edge.wait_up()
            store = await open_store(pg_url)
            _, api_key = await store.tenants.create("acme", "s3", webhook_url=f"{receiver_url}/hook")
            async with asyncio.timeout(20):  # each edge registers through its own origin at start
                while len(await store.edges.live(0)) < len(edges):
                    await asyncio.sleep(0.1)
            yield Cluster(origins, workers, edges, store, {"API-Key": api_key}, receiver)
        finally:
            for node in nodes:
                node.stop()
            if store is not None:
                await store.close()


async def job_row(c: Cluster, job_id: str) -> dict[str, Any]:
    row = (await c.store.db.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
    assert row is not None
    return dict(row)


async def transcoding(c: Cluster, http: httpx.AsyncClient, origin: Node, file_url: str) -> dict[str, Any]:
    """Create a stream of ``file_url`` through ``origin``; returns its job row once a worker is at it."""
    r = await http.post(
        f"{origin.url}/streams/v1/create",
        headers=c.headers,
        json={"streams": [{"url": file_url, "meta": {"name": "lecture"}, "qualities": LADDER}]},
    )
    assert r.status_code in (200, 201), r.text
    stream_id = r.json()["ids"][0]
    async with asyncio.timeout(20):
        while (stream := await c.store.streams.get(stream_id)) is None or stream.status != "processing":
            await asyncio.sleep(0.05)
    assert stream.job_id
    return await job_row(c, stream.job_id)


async def finished_job(c: Cluster, claimed: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Wait for the job to succeed; returns its row and every lease owner seen since ``claimed``."""
    owners = {claimed["lease_owner"]}
    async with asyncio.timeout(40):
        while (job := await job_row(c, claimed["id"]))["status"] != "succeeded":
            assert job["status"] != "failed", job["last_error"]
            if job["lease_owner"]:
                owners.add(job["lease_owner"])
            await asyncio.sleep(0.05)
    return job, owners


def worker_of(c: Cluster, owner: str) -> Node:
    """The worker process holding a lease (owners are ``host:pid:random``)."""
    pid = int(owner.split(":")[1])
    return next(w for w in c.workers if w.proc is not None and w.proc.pid == pid)


async def test_a_two_of_everything_cluster(cluster: Cluster, tmp_path: Path):
    c = cluster
    origin_a, origin_b = c.origins
    clip = make_clip(tmp_path / "clip.mp4", seconds=4, size="320x240")
    data = clip.read_bytes()
    async with httpx.AsyncClient(timeout=30) as http:
        # Upload through A (signed delivery), token from B, served by both edges.
        uploads = []
        for origin, name in ((origin_a, "one.mp4"), (origin_b, "two.mp4")):
            r = await http.post(
                f"{origin.url}/upload/direct-upload",
                headers=c.headers,
                files={"file": (name, data)},
                data={"userId": "u1", "requireSignedUrl": "true"},
            )
            assert r.status_code == 201, r.text
            uploads.append(r.json())
        first = uploads[0]
        r = await http.post(f"{origin_b.url}/auth/url-token", headers=c.headers, json={"url": first["url"]})
        assert r.status_code == 200, r.text
        path = f"/{r.json()['token']}/{first['key']}"
        for edge in c.edges:
            got = await http.get(edge.url + path)
            assert (got.status_code, got.content) == (200, data), (edge.name, got.text)
        assert (await http.get(f"{c.edges[1].url}/{first['id']}/{first['key']}")).status_code in (401, 403)

        # A transcode is claimed by exactly one of the two idle workers.
        job, owners = await finished_job(c, await transcoding(c, http, origin_a, first["url"]))
        assert job["attempt"] == 1 and len(owners) == 1

        # A worker killed mid-job: the other takes the job over once the lease runs out.
        claimed = await transcoding(c, http, origin_b, uploads[1]["url"])
        worker_of(c, claimed["lease_owner"]).stop(signal.SIGKILL)
        job, owners = await finished_job(c, claimed)
        assert job["attempt"] == 2
        assert {worker_of(c, owner).name for owner in owners} == {w.name for w in c.workers}

        # Delete through B: both edges forget the object at once (their TTL is a minute).
        r = await http.request("DELETE", f"{origin_b.url}/files/delete", headers=c.headers, json={"file": first["url"]})
        assert r.status_code == 200, r.text
        for edge in c.edges:
            assert (await http.get(edge.url + path)).status_code == 404, edge.name

    # Every event in the outbox reached the receiver, and it processed each exactly once.
    async with asyncio.timeout(20):
        undelivered = select(func.count()).where(webhook_deliveries.c.status != "delivered")
        while (await c.store.db.execute(undelivered)).scalar():
            await asyncio.sleep(0.1)
    sent = await c.store.db.execute(select(webhook_deliveries.c.id, webhook_deliveries.c.body))
    outbox = {r.id: r.body for r in sent}
    assert {k: v.encode() for k, v in outbox.items()} == c.receiver.processed
    assert len(c.receiver.requests) == len(outbox)
    assert len(outbox) >= 4  # two uploads, two streams ready
