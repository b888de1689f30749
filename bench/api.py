"""Reader taps through the HTTP API of a real `streamlit run app.py`, driven by the lean load
generator in tools/api_load.py from this same 2-core machine (the clients share the CPU with
the server, as they would in CI)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def api_throughput(
    db: Path, workdir: Path, clients: int = 8, per_client: int = 1_000
) -> dict[str, float]:
    """Requests per second for each workload, on a copy of `db`; every one must be accepted."""
    copy = workdir / "bench-api.duckdb"
    Path(f"{copy}.wal").unlink(missing_ok=True)  # a stopped run's would be replayed into the copy
    shutil.copy(db, copy)
    articles = _articles(copy)
    rates: dict[str, float] = {}
    with live_server(copy, UNLIMITED) as base:
        for name, (route, body, keep_alive) in workloads(articles).items():
            url = f"{base}{route}"

            def warm_body(c: int, i: int, body: Body = body) -> dict[str, Any]:
                return body(c, per_client + i)  # readers the measured run does not use

            warm = post_load(Load(url, clients, 100, warm_body, keep_alive))  # first-use costs
            result = post_load(Load(url, clients, per_client, body, keep_alive))
            accepted = len(warm.accepted) + len(result.accepted)
            if result.failures or accepted != clients * (per_client + 100):
                raise RuntimeError(f"API bench {name!r}: {result.failures[:3]} accepted {accepted}")
            rates[name] = result.per_second()
    for leftover in (copy, Path(f"{copy}.wal")):
        leftover.unlink(missing_ok=True)
    return rates
