"""The public counts behind a real cache: Debian's nginx with `proxy_cache` (the location the
README gives) in front of a real `streamlit run app.py`. The origin says how long the counts
may be reused; nginx keeps them that long, revalidates them with their ETag, and a tap shows
in the public counts within the max-age. A reader's own bar is never cached. Like the other
server tests, a missing nginx fails the run under CI instead of skipping."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reactions.store.articles import upsert_articles
from reactions.store.store import Store
from tests.conftest import make_articles
from tools.live_server import live_server
from tools.nginx_proxy import nginx_proxy

if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
    if os.environ.get("CI"):
        raise RuntimeError("nginx is missing: .ci/run must install Debian's nginx")
    pytest.skip("no nginx on this machine (CI installs it)", allow_module_level=True)

MAX_AGE = 3
# nginx keeps time in whole seconds: a copy cached at 12.9 s with max-age 3 is fresh until
# the clock reads 16, so it may live up to a second past its max-age.
NGINX_CLOCK = 1.0
COUNTS = "/api/v1/articles/cup-final/reactions"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"  # bots cannot react


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, object]

    @property
    def cache(self) -> str:
        return self.headers.get("x-cache-status", "")

    def count(self, kind: str) -> int:
        counts = self.body["counts"]
        assert isinstance(counts, dict)
        return int(counts[kind])


def ask(base: str, path: str, body: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"User-Agent": BROWSER} | ({"Content-Type": "application/json"} if data else {})
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status, headers, json.loads(response.read()))


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """nginx with its cache in front of one server whose counts may be reused for MAX_AGE
    seconds and not served stale (so "within the max-age" is exact); yields nginx's base URL
    and its cache-status log."""
    folder = tmp_path_factory.mktemp("edge")
    db = folder / "edge.duckdb"
    store = Store.open(db)
    upsert_articles(store, make_articles("budget-vote", "cup-final"))
    store.close()
    env = {
        "REACTIONS_COUNTS_MAX_AGE": str(MAX_AGE),
        "REACTIONS_COUNTS_STALE_WHILE_REVALIDATE": "0",
        "REACTIONS_TRUSTED_PROXIES": "127.0.0.1",
        "REACTIONS_SCAN_EVERY_SECONDS": "0",
    }
    log = folder / "cache.log"
    with (
        live_server(db, env) as origin,
        nginx_proxy([origin.removeprefix("http://")], cache=True, cache_log=log) as base,
    ):
        yield base, log


def test_public_counts_are_served_by_the_cache_and_a_tap_shows_within_the_max_age(
    edge: tuple[str, Path],
) -> None:
    base, _ = edge
    first = ask(base, COUNTS)
    assert first.cache in {"MISS", "EXPIRED"}
    assert first.headers["cache-control"] == f"public, max-age={MAX_AGE}, stale-while-revalidate=0"
    assert first.headers["etag"].startswith('"') and first.body["your_reaction"] is None
    fetched = time.monotonic()
    again = ask(base, COUNTS)
    assert (again.cache, again.body, again.headers["etag"]) == (
        "HIT",
        first.body,
        first.headers["etag"],
    )

    before = first.count("love")
    tapped = ask(
        base, "/api/v1/reactions", {"article_id": "cup-final", "kind": "love", "reader_id": "ana"}
    )
    tapped_at = time.monotonic()
    assert tapped.count("love") == before + 1  # the tapper sees their tap at once
    cached = ask(base, COUNTS)
    if time.monotonic() < fetched + MAX_AGE - 0.5:  # still fresh: the cache answered
        assert cached.cache == "HIT" and cached.count("love") == before

    while True:  # every reader sees it once the cached copy's max-age is over
        seen = ask(base, COUNTS)
        if seen.count("love") == before + 1:
            break
        late = time.monotonic() - tapped_at
        assert late < MAX_AGE + NGINX_CLOCK + 0.3, "the tap did not show within the max-age"
        time.sleep(0.1)
    assert seen.headers["etag"] != first.headers["etag"]
    # what everyone sees now is what the tap's answer said, less the tapper's own reaction
    public_part = {k: v for k, v in tapped.body.items() if k != "change"}
    assert seen.body == {**public_part, "your_reaction": None}


def test_an_unchanged_count_is_revalidated_with_its_etag_not_fetched_again(
    edge: tuple[str, Path],
) -> None:
    base, log = edge
    path = "/api/v1/articles/budget-vote/reactions"
    first = ask(base, path)
    time.sleep(MAX_AGE + NGINX_CLOCK + 0.1)
    revalidated = ask(base, path)
    # nginx asked the origin with If-None-Match and got 304 Not Modified: same body, same tag
    assert revalidated.cache == "REVALIDATED"
    assert (revalidated.body, revalidated.headers["etag"]) == (first.body, first.headers["etag"])
    assert ask(base, path).cache == "HIT"
    statuses = log.read_text().split()
    assert {"HIT", "REVALIDATED"} <= set(statuses)


def test_a_readers_own_bar_is_never_cached(edge: tuple[str, Path]) -> None:
    base, _ = edge
    ask(base, "/api/v1/reactions", {"article_id": "budget-vote", "kind": "sad", "reader_id": "bo"})
    for _ in range(2):
        mine = ask(base, "/api/v1/articles/budget-vote/reactions?reader_id=bo")
        assert mine.cache == "BYPASS"
        assert mine.headers["cache-control"] == "private, no-store"
        assert mine.body["your_reaction"] == "sad"
    other = ask(base, "/api/v1/articles/budget-vote/reactions?reader_id=cy")
    assert other.body["your_reaction"] is None and other.cache == "BYPASS"
