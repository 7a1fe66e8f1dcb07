"""Edge hot path vs nginx on the same files, one core each, wrk on another core.

    python -m loadtests.bench_edge [--duration 10] [--connections 50] [--rounds 3] [--server uvicorn|lean|both]
                                   [--memory-bytes 536870912] [--baseline CHECKOUT]
                                   [--rss 300x1000,16x200] [--rss-duration 20] [--rss-only]

Uploads a 1 KiB object (fetched one request at a time, and pipelined 16 deep), a 1 MiB segment and a
100 MiB file as *signed* files, starts the edge on each chosen HTTP server (``edge.server``; both side
by side by default), warms their caches through a signed JWT URL, then runs wrk against nginx
(serving the origin's object directory) and against each edge, and prints req/s, MB/s and edge/nginx
ratios, a row per server. Finally, per ``--rss`` case ``MiBxN`` (default ``300x1000``: a 300 MiB object,
1,000 keep-alive connections), N wrk connections fetch that object whole for ``--rss-duration`` seconds
on each edge while the edge's RSS (workers included, :func:`~loadtests._procs.rss_bytes`) is sampled
five times a second; peak and median are printed against the cache budget + 100 MiB. wrk on one core
reads far slower than the edge produces, so this is the slow-client case. ``--rss-only`` runs only that.

Not a test: numbers only. A last column runs a bare raw-ASGI app on uvicorn (:mod:`loadtests.bare_asgi`)
with the same body on the same core: the ceiling of the HTTP server the edge runs on. Needs wrk and
nginx (Debian: nginx-light wrk); without nginx only the edge is run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from loadtests._procs import Stack, free_port, pinned, rss_bytes, stack, wait_http

SERVER_CORE, LOAD_CORE = 0, 1
RANGE_LUA = """
math.randomseed(os.time())
local size, span = {size}, {span}
request = function()
  local start = math.random(0, size - span)
  wrk.headers["Range"] = "bytes=" .. start .. "-" .. (start + span - 1)
  return wrk.format("GET", wrk.path)
end
"""
PIPELINE_LUA = """
init = function(args)
  local r = {{}}
  for i = 1, {depth} do r[i] = wrk.format(nil, wrk.path) end
  batch = table.concat(r)
end
request = function() return batch end
"""
PIPELINE_DEPTH = 16
NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types {{ video/mp4 mp4; application/octet-stream bin; }}
  server {{ listen 127.0.0.1:{port}; root {root}; etag on; }}
}}
"""


def wrk(
    url: str,
    duration: int,
    connections: int,
    script: str | None = None,
    timeout: int = 2,
    threads: int = 1,
    core: int | None = LOAD_CORE,
) -> tuple[float, float]:
    """(requests/s, MB/s) from one wrk run pinned to ``core`` (the load core; None: unpinned)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(pinned([*cmd, url], core), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out).groups()  # type: ignore[union-attr]
    scale = {"B": 1e-6, "KB": 1024 / 1e6, "MB": 1024**2 / 1e6, "GB": 1024**3 / 1e6}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    return rps, float(value) * scale


@contextlib.contextmanager
def bare_uvicorn(size: int) -> Iterator[str]:
    """:mod:`loadtests.bare_asgi` serving ``size`` bytes on the edge's core: the server's own ceiling."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "loadtests.bare_asgi:app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--no-proxy-headers",
        "--no-server-header",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(pinned(cmd, SERVER_CORE), env={**os.environ, "BARE_ASGI_BYTES": str(size)})
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait()


def start_edge(
    s: Stack,
    server: str,
    cache_dir: Path,
    name: str = "",
    checkout: Path | None = None,
    extra: dict[str, str] | None = None,
    verify: ssl.SSLContext | None = None,
    core: int | None = SERVER_CORE,
) -> str:
    """An edge on ``server`` (its own port and disk cache) pinned to ``core`` (the server core; None:
    unpinned), run from ``checkout`` (another copy of mediaedge) if given, with the ``extra`` settings
    (over TLS: pass the ``verify`` context that trusts its certificate); its base URL. Stopped with the
    stack."""
    port = free_port()
    env = {
        **s.env,
        "MEDIAEDGE_EDGE_PORT": str(port),
        "MEDIAEDGE_EDGE_SERVER": server,
        "MEDIAEDGE_EDGE_DISK_CACHE_DIR": str(cache_dir),
        **(extra or {}),
    }
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    s.procs[f"edge-{name or server}"] = subprocess.Popen(
        pinned([sys.executable, "-m", "mediaedge", "edge"], core),
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"{'https' if verify else 'http'}://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", verify=verify or True)
    return url


def upload_signed(client: httpx.Client, s: Stack, name: str, data: bytes) -> tuple[str, str]:
    """Upload ``data`` as ``name``, a file that requires a signed URL; (the signed path on an edge with
    its JWT, the object's path under the origin's object directory)."""
    up = client.post(
        f"{s.origin}/upload/direct-upload",
        headers=s.headers,
        files={"file": (name, data)},
        data={"userId": "bench", "requireSignedUrl": "true"},
    ).json()
    signed = urlsplit(
        client.post(f"{s.origin}/auth/url-token", headers=s.headers, json={"url": up["url"], "expiresIn": "1h"}).json()[
            "url"
        ]
    )
    return (f"{signed.path}?{signed.query}" if signed.query else signed.path, f"/{up['key']}")


def warm(client: httpx.Client, url: str, size: int, times: int = 1) -> None:
    """Fetch every 1 MiB slice of the ``size``-byte object at ``url`` ``times`` times, so it is cached
    (with several workers, over fresh connections each time: the kernel picks the worker)."""
    for _ in range(times):
        for start in range(0, size, 1024 * 1024):
            r = client.get(url, headers={"Range": f"bytes={start}-{start + 1024 * 1024 - 1}", "Connection": "close"})
            assert r.status_code in (200, 206), r.text


def median_pair(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median req/s and MB/s of several runs."""
    return statistics.median(r for r, _ in runs), statistics.median(m for _, m in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs per server; medians are printed")
    ap.add_argument("--server", choices=("uvicorn", "lean", "both"), default="both", help="the edge's HTTP server")
    ap.add_argument(
        "--memory-bytes",
        type=int,
        default=512 * 1024 * 1024,
        help="the edges' memory tier (edge.memory_cache_bytes); 1 serves every hit from the disk tier",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        help="also run each edge from this checkout (rows SERVER@base), "
        "interleaved with the others: before/after under the same noise",
    )
    ap.add_argument(
        "--rss",
        type=rss_cases,
        default=[(300, 1000)],
        help="memory cases, MiBxCONNECTIONS comma-separated: an object of that size fetched whole by that many "
        "keep-alive connections while the edge's RSS is sampled (default 300x1000)",
    )
    ap.add_argument("--rss-duration", type=int, default=20, help="seconds per memory case")
    ap.add_argument("--rss-only", action="store_true", help="only the memory cases (no nginx, no req/s table)")
    args = ap.parse_args()
    servers = ("uvicorn", "lean") if args.server == "both" else (args.server,)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-bench-"))
    budget = args.memory_bytes
    env = {"MEDIAEDGE_EDGE_MEMORY_CACHE_BYTES": str(budget)}
    with stack(tmp / "var", "origin", env=env) as s:
        files: dict[str, bytes] = {}
        names: dict[str, str] = {}
        if not args.rss_only:
            files |= {
                "1 KiB": os.urandom(1024),
                "1 MiB segment": os.urandom(1024 * 1024),
                "100 MiB file": os.urandom(100 * 1024 * 1024),
            }
            names |= {"1 KiB": "small.bin", "1 MiB segment": "seg_001.bin", "100 MiB file": "movie.mp4"}
        for mib, _ in args.rss:
            files[f"{mib} MiB object"] = os.urandom(mib * 1024 * 1024)
            names[f"{mib} MiB object"] = f"object-{mib}.mp4"
        edges = {server: start_edge(s, server, tmp / f"edge-cache-{server}") for server in servers}
        if args.baseline:
            edges |= {
                f"{server}@base": start_edge(
                    s, server, tmp / f"edge-cache-{server}-base", f"{server}@base", args.baseline.resolve()
                )
                for server in servers
            }
        paths: dict[str, tuple[str, str]] = {}  # label → (signed edge path, object path)
        with httpx.Client(timeout=120) as client:
            for label, data in files.items():
                paths[label] = upload_signed(client, s, names[label], data)
                for edge in edges.values():
                    warm(client, edge + paths[label][0], len(data))

        if not args.rss_only:
            compare(args, tmp, files, paths, edges)
        for mib, connections in args.rss:
            for server, edge in edges.items():
                rss_case(s, server, edge + paths[f"{mib} MiB object"][0], mib, connections, args.rss_duration, budget)
    shutil.rmtree(tmp, ignore_errors=True)


def rss_cases(value: str) -> list[tuple[int, int]]:
    """``"300x1000,16x200"`` → ``[(300, 1000), (16, 200)]`` (object MiB, connections)."""
    cases = []
    for case in value.split(","):
        mib, _, connections = case.partition("x")
        cases.append((int(mib), int(connections)))
    return cases


def rss_case(s: Stack, server: str, url: str, mib: int, connections: int, duration: int, budget: int) -> None:
    """``connections`` wrk connections fetching ``url`` (an object of ``mib`` MiB) whole for ``duration``
    seconds; prints the edge's RSS peak and median against the budget + 100 MiB."""
    edge_pid = s.procs[f"edge-{server}"].pid
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            samples.append(rss_bytes(edge_pid))

    idle = rss_bytes(edge_pid)
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        _, mbs = wrk(url, duration, connections, timeout=duration + 10)
    finally:
        stop.set()
        sampler.join()
    peak = max(samples) if samples else rss_bytes(edge_pid)
    limit = budget + 100 * 2**20
    print(
        f"{server}: {connections:,} connections fetching a {mib} MiB object for {time.monotonic() - started:.0f} s "
        f"({mbs:.0f} MB/s): edge RSS before {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB, median "
        f"{statistics.median(samples or [peak]) / 2**20:.0f} MiB; budget {budget / 2**20:.0f} MiB + 100 MiB = "
        f"{limit / 2**20:.0f} MiB → {'within' if peak <= limit else 'OVER'}",
        flush=True,
    )


def compare(
    args: argparse.Namespace,
    tmp: Path,
    files: dict[str, bytes],
    paths: dict[str, tuple[str, str]],
    edges: dict[str, str],
) -> None:
    """The req/s table: each case on nginx and on every edge, interleaved, medians and ratios."""
    nginx_port = free_port()
    nginx = None
    if shutil.which("nginx"):
        conf = tmp / "nginx.conf"
        # Stored objects are 0600 (atomic temp-file writes): nginx's worker must run as their owner.
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(user=user, dir=tmp, port=nginx_port, root=tmp / "var" / "objects"))
        nginx = subprocess.Popen(
            pinned(["nginx", "-c", str(conf), "-p", str(tmp)], SERVER_CORE), stderr=subprocess.DEVNULL
        )
        wait_http(f"http://127.0.0.1:{nginx_port}/")
    lua = tmp / "ranges.lua"
    lua.write_text(RANGE_LUA.format(size=len(files["100 MiB file"]), span=1024 * 1024))
    pipeline = tmp / "pipeline.lua"
    pipeline.write_text(PIPELINE_LUA.format(depth=PIPELINE_DEPTH))
    # (label, object, wrk script, target ratio)
    cases = [
        ("1 KiB", "1 KiB", None, "≥ 0.5"),
        (f"1 KiB pipelined ×{PIPELINE_DEPTH}", "1 KiB", str(pipeline), "≥ 0.7"),
        ("1 MiB segment", "1 MiB segment", None, "≥ 1.5"),
        ("random 1 MiB ranges of 100 MiB", "100 MiB file", str(lua), "≥ 1.3"),
    ]
    nan = (float("nan"), float("nan"))
    try:
        print(f"median of {args.rounds} interleaved {args.duration} s runs per server, {args.connections} connections")
        print(
            f"{'case':<32}{'server':<13}{'nginx req/s':>12}{'MB/s':>9}{'edge req/s':>12}{'MB/s':>9}{'ratio':>8}"
            f"  target{'bare uvicorn req/s':>20}{'edge/bare':>10}"
        )
        for label, key, script, target in cases:
            edge_path, path = paths[key]
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in (*edges, "nginx", "bare")}
            with contextlib.ExitStack() as bare_server:
                bare_url = None if script == str(lua) else bare_server.enter_context(bare_uvicorn(len(files[key])))
                for _ in range(args.rounds):  # interleaved: a noisy neighbour hits every server alike
                    for server, edge in edges.items():
                        runs[server].append(wrk(edge + edge_path, args.duration, args.connections, script))
                    if nginx:
                        nginx_url = f"http://127.0.0.1:{nginx_port}{path}"
                        runs["nginx"].append(wrk(nginx_url, args.duration, args.connections, script))
                    if bare_url:
                        runs["bare"].append(wrk(bare_url, args.duration, args.connections, script))
            ref, bare = (median_pair(runs[name]) if runs[name] else nan for name in ("nginx", "bare"))
            for server in edges:
                edge_rps, edge_mbs = median_pair(runs[server])
                print(
                    f"{label:<32}{server:<13}{ref[0]:>12.0f}{ref[1]:>9.0f}{edge_rps:>12.0f}{edge_mbs:>9.0f}"
                    f"{edge_rps / ref[0]:>8.2f}  {target:<8}{bare[0]:>18.0f}{edge_rps / bare[0]:>10.2f}"
                )
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()
