"""The reader path under a third-party load generator: Debian's `wrk` (8 kept-alive
connections on 2 threads) against a real `streamlit run app.py`, driving the requests a page
carrying the bar makes (bench/wrk/reader_path.lua says which). Distinct readers, so no answer
comes from a reader the server has just seen. Then the public counts through Debian's nginx
with its cache in front (tools/nginx_proxy), while taps keep changing them."""

from __future__ import annotations

import collections
import http.client
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.api import UNLIMITED, _articles
from tools.live_server import ROOT, live_server
from tools.nginx_proxy import nginx_proxy

SCRIPT = Path(__file__).parent / "wrk" / "reader_path.lua"
# sequence -> origin requests per page view (for the per-page figure)
SEQUENCES = {
    "page": 1,  # widget.js now: the view's answer is the bar
    "page-2": 2,  # widget.js before: GET the reader's bar, then POST the view
    "counts": 0,  # the public counts, what a cache in front absorbs
    "counts-mine": 0,
    "tap": 0,
}


TAP_HEADERS = {"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11; Linux) Chrome/131"}


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    bad_status: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk(base: str, sequence: str, articles: Path, tag: str, seconds: int = 10) -> WrkRun:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    out = subprocess.run(
        [
            *(binary, "-t2", "-c8", f"-d{seconds}s", "-s", str(SCRIPT), base),
            *("--", sequence, str(articles), tag),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in reversed(out.splitlines()) if ln.startswith("{"))
    return WrkRun(**json.loads(line))


@dataclass(frozen=True)
class EdgeRun:
    """The public counts through nginx's cache while taps change them."""

    served: WrkRun  # what wrk got from nginx
    statuses: dict[str, int]  # nginx's $upstream_cache_status -> requests
    taps: int  # taps made meanwhile, straight to the origin

    @property
    def hit_rate(self) -> float:
        return self.statuses.get("HIT", 0) / max(1, sum(self.statuses.values()))

    @property
    def origin_requests(self) -> int:
        """Requests nginx passed on (a miss, an expired copy fetched or revalidated)."""
        return sum(n for status, n in self.statuses.items() if status != "HIT")


@dataclass(frozen=True)
class ReaderPath:
    routes: dict[str, WrkRun]  # sequence -> run against the origin
    edge: EdgeRun
    before: dict[str, WrkRun]  # the widget's old sequence and a reader's GET, on BEFORE's code


# The last commit before a page view became one request and the counts came from memory: its
# server is measured in the same run, on the same data, as the peer the rows compare with.
BEFORE = "1c7f902"


def reader_path(db: Path, workdir: Path, seconds: int = 10) -> ReaderPath:
    """Each sequence for `seconds` against one server on a copy of `db` (warmed by a short
    run of the same sequence first), then the public counts through an nginx cache; any
    refused request fails the bench."""
    copy = workdir / "bench-reader-path.duckdb"
    Path(f"{copy}.wal").unlink(missing_ok=True)
    shutil.copy(db, copy)
    articles = workdir / "articles.txt"
    ids = _articles(copy)
    articles.write_text("\n".join(ids) + "\n")
    try:
        with live_server(copy, UNLIMITED) as base:
            runs = _sequences(base, SEQUENCES, articles, seconds)
            edge = _through_cache(base, ids, articles, workdir, seconds)
        before = _on_old_code(copy, articles, workdir, seconds)
    finally:
        for leftover in (copy, Path(f"{copy}.wal"), articles):
            leftover.unlink(missing_ok=True)
    return ReaderPath(runs, edge, before)


def _sequences(
    base: str, sequences: Iterable[str], articles: Path, seconds: int
) -> dict[str, WrkRun]:
    runs: dict[str, WrkRun] = {}
    for sequence in sequences:
        tag = f"{sequence}-{time.time():.0f}"
        wrk(base, sequence, articles, f"warm-{tag}", seconds=2)
        runs[sequence] = _accepted(sequence, wrk(base, sequence, articles, tag, seconds))
    return runs


def _on_old_code(db: Path, articles: Path, workdir: Path, seconds: int) -> dict[str, WrkRun]:
    """The widget's old sequence and a reader's GET against a server running BEFORE's code
    (its source from git, ahead of ours on the path), on the same database."""
    tree = workdir / f"reactions-{BEFORE}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", BEFORE, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    try:
        with live_server(db, {**UNLIMITED, "PYTHONPATH": str(tree / "src")}) as base:
            first = articles.read_text().split()[0]
            with urllib.request.urlopen(f"{base}/api/v1/articles/{first}/reactions") as answer:
                if answer.headers.get("ETag"):  # only this code's public counts carry one
                    raise RuntimeError(f"the server meant to run {BEFORE}'s code runs ours")
            return _sequences(base, ("page-2", "counts-mine"), articles, seconds)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def _accepted(sequence: str, run: WrkRun) -> WrkRun:
    if run.socket_errors or run.bad_status:
        raise RuntimeError(f"reader path {sequence!r}: {run}")
    return run


def _through_cache(
    origin: str, ids: list[str], articles: Path, workdir: Path, seconds: int
) -> EdgeRun:
    """wrk asks nginx for the public counts of every article, round robin, with the
    origin's default Cache-Control, while a reader taps somewhere every 50 ms."""
    log = workdir / "nginx-cache.log"
    log.unlink(missing_ok=True)
    with (
        nginx_proxy([origin.removeprefix("http://")], cache=True, cache_log=log) as base,
        _tapping(origin, ids) as taps,
    ):
        served = _accepted("counts via nginx", wrk(base, "counts", articles, "edge", seconds))
    statuses = dict(collections.Counter(log.read_text().split()))
    log.unlink()
    return EdgeRun(served, statuses, taps[0])


@contextmanager
def _tapping(origin: str, ids: list[str], every: float = 0.05) -> Iterator[list[int]]:
    """Taps by new readers on the articles, one every `every` seconds, until the block ends;
    yields a one-item list holding how many were made."""
    host, port = origin.removeprefix("http://").split(":")
    done = threading.Event()
    made = [0]

    def tap() -> None:
        con = http.client.HTTPConnection(host, int(port), timeout=10)
        while not done.wait(every):
            n = made[0]
            body = {"article_id": ids[n * 7 % len(ids)], "kind": "love", "reader_id": f"edge-{n}"}
            con.request("POST", "/api/v1/reactions", json.dumps(body), TAP_HEADERS)
            response = con.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"edge bench tap: {response.status}")
            made[0] += 1

    thread = threading.Thread(target=tap, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        done.set()
        thread.join()


if __name__ == "__main__":
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="reactions-reader-path-"))
    measured = reader_path(Path(sys.argv[1]), folder)
    for name, run in measured.routes.items():
        pages = f"{run.per_second / SEQUENCES[name]:,.0f} page views/s" if SEQUENCES[name] else ""
        print(
            f"{name:12} {run.per_second:8,.0f} req/s  p50 {run.p50_ms:5.1f} ms  "
            f"p99 {run.p99_ms:6.1f} ms  {pages}"
        )
    for name, run in measured.before.items():
        print(f"{name:12} {run.per_second:8,.0f} req/s on {BEFORE}'s code")
    edge = measured.edge
    print(
        f"via nginx    {edge.served.per_second:8,.0f} req/s  p50 {edge.served.p50_ms:5.1f} ms  "
        f"p99 {edge.served.p99_ms:6.1f} ms  hit rate {edge.hit_rate:.2%} {edge.statuses} "
        f"with {edge.taps} taps"
    )
