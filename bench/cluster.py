"""Bench rows for several servers on one PostgreSQL: taps and views per second through one
and through three real servers (each client kept on one server, as a load balancer with
keep-alive does), beside the embedded single process measured by bench.api; how long a tap
acknowledged by one server takes to reach a replica under that load (p50/p95); and page
times read from a replica. All on the same two cores as everything else."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.api import UNLIMITED
from reactions.demo.newsroom import generate, populate
from reactions.store.postgres.cluster import ClusterStore
from reactions.web.identity import reader_identity
from tools.api_load import Load, LoadResult, post_load
from tools.live_server import start_server
from tools.pg_cluster import pg_cluster

KINDS = ("like", "love", "angry", "sad", "wow")


@dataclass(frozen=True)
class ClusterFigures:
    taps: dict[int, float]  # servers -> taps/s
    views: dict[int, float]  # servers -> views/s
    lag: tuple[float, float]  # p50, p95 seconds, under the three-server tap load
    replica: Path  # a replica file holding the data, for page times
    events: int


def cluster_figures(
    events: int, end: Any, workdir: Path, per_client: int = 1_000
) -> ClusterFigures:
    with pg_cluster() as pg:
        seed = ClusterStore.open_cluster(
            workdir / "bench-pg-seed.duckdb", pg.url, background_sync=False
        )
        populate(seed, generate(articles=500, events=events, days=90, seed=7, end=end, views=False))
        articles = [
            r[0] for r in seed.cursor().execute("SELECT article_id FROM articles").fetchall()
        ]
        seed.close()
        # Each server starts from a copy of a synced replica, as a new server in production
        # would be seeded: the figures then measure serving, not three first copies at once.
        for n in range(3):
            shutil.copy(workdir / "bench-pg-seed.duckdb", workdir / f"bench-pg-replica-{n}.duckdb")
        env = {**UNLIMITED, "REACTIONS_DATABASE_URL": pg.url, "REACTIONS_SCAN_EVERY_SECONDS": "0"}
        taps: dict[int, float] = {}
        views: dict[int, float] = {}
        lag: tuple[float, float] = (0.0, 0.0)
        servers = []
        try:
            for n in range(3):
                servers.append(start_server(workdir / f"bench-pg-replica-{n}.duckdb", env))
            for count in (1, 3):
                bases = [base for base, _ in servers[:count]]
                taps[count] = _rate(bases, "/api/v1/reactions", articles, f"t{count}", per_client)
                views[count] = _rate(bases, "/api/v1/views", articles, f"v{count}", per_client)
            lag = _lag_under_load([b for b, _ in servers], articles, pg.url, workdir, per_client)
        finally:
            for _, process in servers:
                process.terminate()
                process.wait(timeout=60)
    return ClusterFigures(taps, views, lag, workdir / "bench-pg-replica-0.duckdb", events)


def _load(bases: list[str], route: str, articles: list[str], tag: str, per_client: int) -> Load:
    def body(c: int, i: int) -> dict[str, Any]:
        request = {
            "article_id": articles[(c * 31 + i) % len(articles)],
            "reader_id": f"{tag}-{c}-{i}",
        }
        return (
            {**request, "kind": KINDS[i % len(KINDS)]} if route.endswith("reactions") else request
        )

    return Load(bases[0] + route, 8, per_client, body)


def _rate(bases: list[str], route: str, articles: list[str], tag: str, per_client: int) -> float:
    """Requests per second from 8 clients spread over the servers (client c on server c % n);
    every request must be accepted."""
    results = [LoadResult() for _ in bases]
    loads = []
    for n, base in enumerate(bases):
        clients = [c for c in range(8) if c % len(bases) == n]
        load = _load([base], route, articles, f"{tag}-{n}", per_client)
        loads.append(Load(load.url, len(clients), per_client, load.body_for))
    threads = [
        threading.Thread(target=post_load, args=(load, result))
        for load, result in zip(loads, results, strict=True)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    accepted = sum(len(r.accepted) for r in results)
    if accepted != 8 * per_client:
        failures = [f for r in results for f in r.failures][:3]
        raise RuntimeError(f"cluster bench {route}: accepted {accepted}: {failures}")
    return accepted / seconds


def _lag_under_load(
    bases: list[str], articles: list[str], url: str, workdir: Path, per_client: int
) -> tuple[float, float]:
    """While 8 clients tap through the three servers, a probe taps a new reader through one
    server every 100 ms and times when it appears in another replica (a fourth process's,
    syncing as a server's does)."""
    import json
    import urllib.request

    watcher = ClusterStore.open_cluster(workdir / "bench-pg-watcher.duckdb", url)
    lags: list[float] = []
    done = threading.Event()

    def background() -> None:
        _rate(bases, "/api/v1/reactions", articles, "lagload", per_client)
        done.set()

    load = threading.Thread(target=background)
    load.start()
    try:
        probe = 0
        while not done.is_set() and probe < 200:
            reader = f"probe-{probe}"
            body = json.dumps({"article_id": articles[0], "kind": "wow", "reader_id": reader})
            request = urllib.request.Request(
                f"{bases[probe % len(bases)]}/api/v1/reactions",
                data=body.encode(),
                headers={"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"},
            )
            urllib.request.urlopen(request, timeout=30).read()
            acknowledged = time.perf_counter()
            wanted = watcher.hash_reader(reader_identity(reader, None, None))
            while (
                not watcher.cursor()
                .execute("SELECT 1 FROM current_reactions WHERE reader_hash = ?", [wanted])
                .fetchall()
            ):
                time.sleep(0.02)
            lags.append(time.perf_counter() - acknowledged)
            probe += 1
            time.sleep(0.1)
    finally:
        load.join()
        watcher.close()
    lags.sort()
    return statistics.median(lags), lags[int(0.95 * (len(lags) - 1))]


if __name__ == "__main__":  # python -m bench.cluster: these rows alone
    from reactions.clock import utc_now

    folder = Path(tempfile.mkdtemp(prefix="reactions-bench-cluster-"))
    print(cluster_figures(200_000, utc_now().replace(minute=0, second=0, microsecond=0), folder))
