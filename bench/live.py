"""Bench rows measured against a real running server:

- integrity on live traffic: organic taps from many networks and bot bursts planted through
  the HTTP API, flagged by the server's own scheduled scans — recall and false flags, beside
  the generator's planted figure;
- the Export page's raw events link (a signed URL to the export route) at full size: the
  download's time and the server's peak memory, which must not grow with the file.
"""

from __future__ import annotations

import os
import random
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.api import UNLIMITED, Body
from reactions.store.store import Store
from reactions.web.download_links import link_secret, signed_url
from reactions.web.identity import reader_identity
from tools.api_load import Load, post_load
from tools.live_server import start_server

KINDS = ["like", "love", "funny", "angry", "sad", "wow"]


@dataclass(frozen=True)
class LiveIntegrity:
    planted: int
    planted_flagged: int
    organic: int
    organic_flagged: int
    seconds_to_flag: float

    @property
    def recall(self) -> float:
        return self.planted_flagged / self.planted if self.planted else 1.0

    @property
    def false_rate(self) -> float:
        return self.organic_flagged / self.organic if self.organic else 0.0


def live_integrity(db: Path, workdir: Path, bursts: int = 6, per_burst: int = 120) -> LiveIntegrity:
    """On a copy of `db` (already scanned once, as `reactions demo` leaves it): a server
    scanning every 2 s; 4,000 organic taps from 1,000 readers, each on its own network, spread
    over the articles; and `bursts` bursts of `per_burst` new readers tapping one kind on one
    article within a second or two, each burst from addresses of one /24."""
    copy = workdir / "bench-live.duckdb"
    Path(f"{copy}.wal").unlink(missing_ok=True)
    shutil.copy(db, copy)
    store = Store.open(copy)
    articles = [r[0] for r in store.cursor().execute("SELECT article_id FROM articles").fetchall()]
    newest = int(
        store.cursor().execute("SELECT max(event_id) FROM reaction_events").fetchall()[0][0]
    )
    store.close()
    rng = random.Random(7)
    tag = f"{time.time():.0f}"

    def organic(c: int, i: int) -> dict[str, object]:
        reader = (c * 500 + i) % 1_000
        return {
            "article_id": articles[rng.randrange(len(articles))],
            "kind": KINDS[rng.randrange(len(KINDS))],
            "reader_id": f"organic-{tag}-{reader}",
        }

    def organic_source(c: int, i: int) -> str:
        reader = (c * 500 + i) % 1_000
        return f"127.{10 + reader // 250}.{reader % 250}.{1 + reader % 7}"

    targets = rng.sample(articles, bursts)
    env = {**UNLIMITED, "REACTIONS_SCAN_EVERY_SECONDS": "2"}
    base, server = start_server(copy, env)
    try:
        start = time.perf_counter()
        organic_load = Load(
            f"{base}/api/v1/reactions", 8, 500, organic, keep_alive=False, source=organic_source
        )
        result = post_load(organic_load)
        for b, article in enumerate(targets):
            burst = post_load(
                Load(
                    f"{base}/api/v1/reactions",
                    4,
                    per_burst // 4,
                    _bot_taps(tag, b, article, KINDS[b % len(KINDS)]),
                    keep_alive=False,
                    source=_one_block(200 + b),
                )
            )
            if len(burst.accepted) != per_burst:
                raise RuntimeError(f"burst {b}: {burst.failures[:3]}")
        if len(result.accepted) != 4_000:
            raise RuntimeError(f"organic load: {result.failures[:3]}")
        time.sleep(6)  # three scheduled scans
        seconds = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=60)

    store = Store.open(copy)
    try:
        bots = {
            store.hash_reader(reader_identity(f"bot-{tag}-{b}-{c}-{i}", None, None))
            for b in range(bursts)
            for c in range(4)
            for i in range(per_burst // 4)
        }
        rows = (
            store.cursor()
            .execute(
                """
            SELECT e.reader_hash, f.event_id IS NOT NULL AS flagged
            FROM reaction_events e LEFT JOIN flagged_events f USING (event_id)
            WHERE e.event_id > ?
            """,
                [newest],
            )
            .fetchall()
        )
    finally:
        store.close()
    planted = [flagged for reader, flagged in rows if reader in bots]
    organic_rows = [flagged for reader, flagged in rows if reader not in bots]
    for leftover in (copy, Path(f"{copy}.wal")):
        leftover.unlink(missing_ok=True)
    return LiveIntegrity(len(planted), sum(planted), len(organic_rows), sum(organic_rows), seconds)


def _one_block(second_octet: int) -> Callable[[int, int], str]:
    """Addresses of one /24, rotating through it as a bot farm does."""

    def address(c: int, i: int) -> str:
        return f"127.{second_octet}.7.{1 + (c * 50 + i) % 250}"

    return address


def _bot_taps(tag: str, burst: int, article: str, kind: str) -> Body:
    def body(c: int, i: int) -> dict[str, object]:
        return {"article_id": article, "kind": kind, "reader_id": f"bot-{tag}-{burst}-{c}-{i}"}

    return body


def events_link_download(db: Path) -> tuple[float, int, float, float]:
    """The raw events export through the Export page's signed link from a real server:
    (seconds, bytes, the server's peak RSS before, and after, in MiB)."""
    store = Store.open(db)
    url = signed_url(link_secret(store.cursor()), "/api/v1/export/events.csv", {"range": ["all"]})
    store.close()
    base, server = start_server(db, {"REACTIONS_SCAN_EVERY_SECONDS": "0"})
    try:
        before = _peak_mib(server.pid)
        os.sync()
        start = time.perf_counter()
        size = 0
        with urllib.request.urlopen(f"{base}{url}", timeout=600) as response:
            while block := response.read(1 << 20):
                size += len(block)
        seconds = time.perf_counter() - start
        return seconds, size, before, _peak_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
