"""Reader taps through the HTTP API of a real `streamlit run app.py`, driven by the lean load
generator in tools/api_load.py from this same 2-core machine (the clients share the CPU with
the server, as they would in CI)."""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reactions.store.known_readers import LOADED
from reactions.store.store import Store
from tools.api_load import Load, post_load
from tools.live_server import live_server

KINDS = ["like", "love", "angry", "sad", "wow"]
# The bench measures the write path, not the abuse limits (they would answer 429 here).
UNLIMITED = {
    "REACTIONS_TAPS_PER_IP_MINUTE": "100000000",
    "REACTIONS_TAPS_PER_READER_MINUTE": "100000000",
}
Body = Callable[[int, int], dict[str, Any]]

# A server is warm once two warm-up bursts in a row run within this of each other's rate:
# first-use costs (each article's counts, DuckDB's cache) are over. The known-readers filter
# is waited for first (`_filter_loaded`): while it loads the rate can be steady, and low.
STEADY = 0.10
WARM_BURST = 100  # requests per client in a warm-up burst
WARM_LIMIT_SECONDS = 180.0
TAPS, VIEWS = "/api/v1/reactions", "/api/v1/views"


def _articles(db: Path) -> list[str]:
    store = Store.open(db)
    try:
        rows = store.cursor().execute("SELECT article_id FROM articles ORDER BY 1").fetchall()
    finally:
        store.close()
    return [r[0] for r in rows]


def workloads(articles: list[str]) -> dict[str, tuple[str, Body, bool]]:
    """name -> (route, body for client c's i-th request, keep-alive). Tags keep runs from
    sharing readers."""
    tag = f"{time.time():.0f}"

    def new_readers(c: int, i: int) -> dict[str, Any]:
        # every tap a first-time reader: the common case under a fresh story
        return {
            "article_id": articles[(c * 31 + i) % len(articles)],
            "kind": KINDS[i % len(KINDS)],
            "reader_id": f"new-{tag}-{c}-{i}",
        }

    def returning_readers(c: int, i: int) -> dict[str, Any]:
        # 25 readers per client tapping, undoing and switching on 5 articles
        return {
            "article_id": articles[(c + i) % 5],
            "kind": KINDS[(i * 3) % len(KINDS)],
            "reader_id": f"back-{tag}-{c}-{i % 25}",
        }

    def views(c: int, i: int) -> dict[str, Any]:
        # a reader scrolling through stories: every view a new (reader, article) pair
        return {
            "article_id": articles[(c * 31 + i) % len(articles)],
            "reader_id": f"viewer-{tag}-{c}-{i}",
        }

    return {
        "new readers, kept-alive connections": (TAPS, new_readers, True),
        "returning readers (undo, switch), kept-alive": (TAPS, returning_readers, True),
        "new readers, a new connection per tap": (TAPS, new_readers, False),
        "views of the bar, kept-alive connections": (VIEWS, views, True),
    }


@dataclass
class ApiRates:
    """One database's figures: each workload's rate (the median of `rounds` runs), how long
    it took a freshly started server to reach a steady rate on it, and how long after its
    first tap the writer's known-readers filter was loaded (from the server's log)."""

    per_second: dict[str, float] = field(default_factory=dict)
    warm_seconds: dict[str, float] = field(default_factory=dict)
    filter_seconds: float = 0.0


def _filter_loaded(url: str, article: str, log: Path) -> float:
    """One tap (the writer's first: it starts loading the known-readers filter), then wait
    for the log to say the filter is loaded: until then every tap looks its reader up, and
    the loading shares the CPU — a restart's cost, not the steady rate. Returns the wait."""
    started = time.monotonic()
    body = {"article_id": article, "kind": "like", "reader_id": f"first-{started}"}
    result = post_load(Load(url, 1, 1, lambda c, i: body))
    if len(result.accepted) != 1:
        raise RuntimeError(f"API bench: the first tap failed: {result.failures[:1]}")
    while LOADED not in log.read_text(errors="replace"):
        if time.monotonic() - started > WARM_LIMIT_SECONDS:
            raise RuntimeError(f"API bench: no {LOADED!r} in {log} after {WARM_LIMIT_SECONDS} s")
        time.sleep(0.2)
    return time.monotonic() - started


def _warm_up(url: str, clients: int, body: Body, keep_alive: bool, first_index: int) -> float:
    """Warm-up bursts (readers the measured runs do not use) until the rate is steady;
    returns the seconds that took."""
    started = time.monotonic()
    previous = 0.0
    for burst in itertools.count():
        offset = first_index + burst * WARM_BURST

        def warm_body(c: int, i: int, offset: int = offset) -> dict[str, Any]:
            return body(c, offset + i)

        result = post_load(Load(url, clients, WARM_BURST, warm_body, keep_alive))
        if result.failures or len(result.accepted) != clients * WARM_BURST:
            raise RuntimeError(f"API warm-up {url}: {result.failures[:3]}")
        rate = result.per_second()
        elapsed = time.monotonic() - started
        if (previous and abs(rate / previous - 1) <= STEADY) or elapsed > WARM_LIMIT_SECONDS:
            return elapsed
        previous = rate
    raise AssertionError("unreachable")


def api_throughput(
    dbs: Sequence[Path],
    workdir: Path,
    clients: int = 8,
    per_client: int = 1_000,
    rounds: int = 3,
) -> list[ApiRates]:
    """Requests per second for each workload on a copy of each of `dbs`, every one accepted.
    All servers run at once and take turns, round by round, so that a slow moment of the
    machine falls on every database alike (rates on this VM drift by up to 30 % within
    minutes: measured one after the other, two databases' rates are not comparable)."""
    copies = []
    for n, db in enumerate(dbs):
        copy = workdir / f"bench-api-{n}.duckdb"
        Path(f"{copy}.wal").unlink(missing_ok=True)  # a stopped run's would be replayed
        shutil.copy(db, copy)
        copies.append(copy)
    os.sync()  # the copies' dirty pages written now, not during the measured runs
    found = [ApiRates() for _ in dbs]
    logs = [copy.with_suffix(".log") for copy in copies]
    try:
        articles = [_articles(copy) for copy in copies]
        loads = [workloads(listed) for listed in articles]
        with ExitStack() as servers:
            bases = [
                servers.enter_context(live_server(copy, UNLIMITED, log=log))
                for copy, log in zip(copies, logs, strict=True)
            ]
            for k, base in enumerate(bases):
                found[k].filter_seconds = _filter_loaded(f"{base}{TAPS}", articles[k][0], logs[k])
            for name in loads[0]:
                urls = [f"{base}{load[name][0]}" for base, load in zip(bases, loads, strict=True)]
                for k, load in enumerate(loads):
                    _, body, keep_alive = load[name]
                    warm = _warm_up(urls[k], clients, body, keep_alive, rounds * per_client)
                    found[k].warm_seconds[name] = warm
                samples: list[list[float]] = [[] for _ in dbs]
                for round_ in range(rounds):
                    for k, load in enumerate(loads):
                        _, body, keep_alive = load[name]

                        def measured(c: int, i: int, body: Body = body, r: int = round_) -> Any:
                            return body(c, r * per_client + i)

                        result = post_load(Load(urls[k], clients, per_client, measured, keep_alive))
                        if result.failures or len(result.accepted) != clients * per_client:
                            raise RuntimeError(
                                f"API bench {name!r}: {result.failures[:3]} "
                                f"accepted {len(result.accepted)}"
                            )
                        samples[k].append(result.per_second())
                for k in range(len(dbs)):
                    found[k].per_second[name] = statistics.median(samples[k])
    finally:
        for copy, log in zip(copies, logs, strict=True):
            for leftover in (copy, Path(f"{copy}.wal"), log):
                leftover.unlink(missing_ok=True)
    return found
