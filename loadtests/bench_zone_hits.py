"""Pull-zone cache hits on the edge's lean server: requests per second and server CPU per request.

    python -m loadtests.bench_zone_hits [--duration 5] [--connections 50] [--rounds 3] [--bytes 1024]

Starts a tiny upstream (a threaded ``http.server`` in this process answering ``max-age=3600``), then
``mediaedge edge`` with one pull zone ``/z`` in front of it (edge.server = lean, one worker, pinned to
one core), warms the entry, and runs wrk (on the other core) against ``/z/hit``: every request is a
memory hit. Besides req/s it prints the edge process's own CPU time per request (utime + stime from
``/proc``), which other processes on a shared machine do not distort as they do wall-clock req/s.
Not a test: numbers only. Needs wrk.
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from loadtests._procs import free_port, pinned, wait_http

SERVER_CORE, LOAD_CORE = 0, 1


def _upstream(body: bytes) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("cache-control", "max-age=3600")
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bytes", type=int, default=1024)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_zone_hits needs wrk")
    upstream = _upstream(os.urandom(args.bytes))
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        config = Path(data_dir) / "edge.toml"
        config.write_text(
            f'[edge.zones.z]\nprefix = "/z"\nupstream = "http://127.0.0.1:{upstream.server_address[1]}"\n'
        )
        env = {
            **os.environ,
            "MEDIAEDGE_CONFIG": str(config),
            "MEDIAEDGE_DATA_DIR": data_dir,
            "MEDIAEDGE_EDGE_PORT": str(port),
            "MEDIAEDGE_EDGE_SERVER": "lean",
            "MEDIAEDGE_EDGE_WORKERS": "1",
        }
        cmd = pinned([sys.executable, "-m", "mediaedge", "edge"], SERVER_CORE)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/z/hit"
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            wait_http(url)
            print(f"pull-zone hit, {args.bytes} B, {args.connections} connections, {args.duration} s per round")
            for n in range(1, args.rounds + 1):
                before = _cpu_seconds(proc.pid)
                wrk = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", url]
                out = subprocess.run(pinned(wrk, LOAD_CORE), capture_output=True, text=True, check=True).stdout
                cpu = _cpu_seconds(proc.pid) - before
                total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
                rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
                print(f"round {n}: {rate:,.0f} req/s, {cpu * 1e6 / max(total, 1):.1f} µs edge CPU per request")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            upstream.shutdown()


if __name__ == "__main__":
    main()
