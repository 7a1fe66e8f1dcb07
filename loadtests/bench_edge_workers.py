"""Do the edge's cores add up? 1 KiB req/s with ``edge.workers = 1`` and ``= 2``, everything unpinned.

    python -m loadtests.bench_edge_workers [--duration 10] [--rounds 3] [--connections 64] [--threads 2]
                                           [--server lean] [--baseline CHECKOUT]

Uploads a 1 KiB object as a *signed* file (:func:`loadtests.bench_edge.upload_signed`), starts two
edges on ``--server`` (``lean`` by default), one with ``edge.workers = 1`` and one with ``= 2``, each
with its own port and disk cache, neither pinned, and warms both through the signed JWT URL. Then wrk,
unpinned on the same cores as the edges (2 threads, 64 keep-alive connections), fetches the cached
object from each edge in turn, ``--rounds`` interleaved runs of ``--duration`` seconds, so a noisy
neighbour hits both alike. Prints the median req/s of each, their ratio (target ≥ 1.7 on a 2-core
machine), each worker's share of the two-worker edge's requests (from the counters every worker
publishes under ``metrics/`` of its disk cache: a ratio means little if one worker took everything),
the load average before and after, and the CPU time per request of the edge (its processes) and of
wrk (medians of the runs). Those give the ratio's ceiling when the edge and wrk have the two cores to
themselves: one worker is bound by one core, ``1 / edge``; two workers share both cores with wrk,
``2 / (edge + wrk)``; the ratio cannot exceed ``2 × edge / (edge + wrk)``. On a machine shared with
other load the measured ratio also depends on how much CPU the neighbours leave to one process
against three. ``--baseline`` also runs both from another checkout of mediaedge, interleaved
(before/after under the same noise).

Not a test: numbers only. Needs wrk.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from edge.workers import METRICS_INTERVAL
from loadtests._procs import Stack, cpu_seconds, stack
from loadtests.bench_edge import start_edge, upload_signed, warm, wrk

WARM_SECONDS = 2  # one short wrk run per edge before the rounds: every worker's memory tier and fast path


def served(cache_dir: Path) -> dict[str, int]:
    """Requests each worker of the edge caching in ``cache_dir`` has answered, as it last published them
    (a one-worker edge publishes none: ``{}``)."""
    counts = {}
    for path in sorted((cache_dir / "metrics").glob("w*.json")):
        try:
            counts[path.stem] = sum(orjson.loads(path.read_bytes())["requests"].values())
        except (OSError, ValueError):
            continue
    return counts


def published(cache_dir: Path) -> dict[str, int]:
    """:func:`served` once every worker has published since the last request."""
    time.sleep(2 * METRICS_INTERVAL)
    return served(cache_dir)


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cost(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median (edge, wrk) CPU µs per request of several runs."""
    return statistics.median(e for e, _ in runs) * 1e6, statistics.median(w for _, w in runs) * 1e6


def listed(runs: list[float]) -> str:
    return " ".join(f"{r:.0f}" for r in runs)


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs per edge; medians are printed")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--server", choices=("uvicorn", "lean"), default="lean", help="the edge's HTTP server")
    ap.add_argument("--baseline", type=Path, help="also run both edges from this checkout (rows N@base)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="mediaedge-bench-workers-"))
    try:
        with stack(tmp / "var", "origin") as s:
            run(s, tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(s: Stack, tmp: Path, args: argparse.Namespace) -> None:
    """Start the edges, warm them, run the rounds and print the figures."""
    checkouts: dict[str, Path | None] = {"": None}
    if args.baseline:
        checkouts["@base"] = args.baseline.resolve()
    edges: dict[str, tuple[str, Path]] = {}  # name → (base URL, disk cache dir)
    for suffix, checkout in checkouts.items():
        for workers in (1, 2):
            name = f"{workers}{suffix}"
            cache = tmp / f"edge-cache-{name}"
            extra = {"MEDIAEDGE_EDGE_WORKERS": str(workers)}
            edges[name] = (start_edge(s, args.server, cache, name, checkout, extra, core=None), cache)
    with httpx.Client(timeout=30) as client:
        path, _ = upload_signed(client, s, "small.bin", os.urandom(1024))
        for url, _ in edges.values():
            warm(client, url + path, 1024)
    for url, _ in edges.values():
        wrk(url + path, WARM_SECONDS, args.connections, threads=args.threads, core=None)
    before = {name: published(cache) for name, (_, cache) in edges.items()}
    print(
        f"1 KiB signed URL, cached; wrk -t{args.threads} -c{args.connections} keep-alive, edge and wrk unpinned "
        f"on {os.cpu_count()} cores; median of {args.rounds} interleaved {args.duration} s runs; "
        f"server {args.server}; load average before {load()}",
        flush=True,
    )
    runs: dict[str, list[float]] = {name: [] for name in edges}
    costs: dict[str, list[tuple[float, float]]] = {name: [] for name in edges}  # (edge, wrk) CPU s per request
    for _ in range(args.rounds):  # interleaved: a noisy neighbour hits every edge alike
        for name, (url, _) in edges.items():
            pid = s.procs[f"edge-{name}"].pid
            edge_cpu, wrk_cpu = cpu_seconds(pid), children_cpu()
            rps = wrk(url + path, args.duration, args.connections, threads=args.threads, core=None)[0]
            requests = rps * args.duration
            costs[name].append(((cpu_seconds(pid) - edge_cpu) / requests, (children_cpu() - wrk_cpu) / requests))
            runs[name].append(rps)
    after = {name: published(cache) for name, (_, cache) in edges.items()}
    for suffix in checkouts:
        one, two = (statistics.median(runs[f"{n}{suffix}"]) for n in (1, 2))
        counts = {w: after[f"2{suffix}"].get(w, 0) - before[f"2{suffix}"].get(w, 0) for w in after[f"2{suffix}"]}
        total = sum(counts.values()) or 1
        shares = ", ".join(f"{w} {c / total:.0%}" for w, c in sorted(counts.items()))
        print(f"edge.workers = 1{suffix:<6} {one:>10.0f} req/s  (runs {listed(runs[f'1{suffix}'])})")
        print(
            f"edge.workers = 2{suffix:<6} {two:>10.0f} req/s  (runs {listed(runs[f'2{suffix}'])})  "
            f"per-worker share: {shares}"
        )
        print(f"ratio{suffix:<17} {two / one:>10.2f}  target ≥ 1.7")
        (edge_us, wrk_us), (edge2_us, wrk2_us) = (cost(costs[f"{n}{suffix}"]) for n in (1, 2))
        print(
            f"CPU per request: edge {edge_us:.1f} µs with one worker, {edge2_us:.1f} µs with two (supervisor "
            f"included); wrk {wrk_us:.1f} µs, {wrk2_us:.1f} µs → with the machine to themselves at most "
            f"{2 * edge_us / (edge_us + wrk_us):.2f}× (two cores for edge + wrk against one core for one worker)"
        )
    print(f"load average after {load()}", flush=True)


if __name__ == "__main__":
    main()
