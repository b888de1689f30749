"""Three real servers (`streamlit run app.py`) on one PostgreSQL, behind nginx as the load
balancer: a load of taps through nginx while one server is killed with SIGKILL and PostgreSQL
is stopped and started again, and a rolling restart. Every acknowledged tap must be in
PostgreSQL and in every live server's replica, and every replica's figures must equal a
recount of PostgreSQL's log. Like the browser tests, a missing PostgreSQL or nginx fails the
run under CI instead of skipping."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reactions.metrics.filters import Filters
from reactions.metrics.overview import kpis
from reactions.store.connection import connect
from reactions.store.derived import (
    derived_state_mismatches,
    reaction_count_mismatches,
    view_count_mismatches,
)
from reactions.store.store import identity_text
from reactions.web.identity import reader_identity
from tests import independent
from tests.conftest import run_cli
from tools.api_load import Load, LoadResult, post_load
from tools.live_server import free_port, start_server
from tools.nginx_proxy import nginx_proxy
from tools.pg_cluster import Cluster

if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
    if os.environ.get("CI"):
        raise RuntimeError("nginx is missing: .ci/run must install Debian's nginx")
    pytest.skip("no nginx on this machine (CI installs it)", allow_module_level=True)

GENEROUS = {
    "REACTIONS_TAPS_PER_IP_MINUTE": "1000000",
    "REACTIONS_TAPS_PER_READER_MINUTE": "1000000",
    "REACTIONS_TRUSTED_PROXIES": "127.0.0.1",
    "REACTIONS_SCAN_EVERY_SECONDS": "0",
}


class Servers:
    """N servers on one PostgreSQL, each with its own replica, on fixed ports (so a restarted
    one is where nginx expects it)."""

    def __init__(self, folder: Path, url: str, count: int) -> None:
        self.folder, self.url = folder, url
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count

    def start(self, n: int) -> None:
        env = {**GENEROUS, "REACTIONS_DATABASE_URL": self.url}
        _, self.processes[n] = start_server(
            self.folder / f"replica-{n}.duckdb", env, port=self.ports[n]
        )

    def stop(self, n: int, sig: int = signal.SIGTERM) -> None:
        process = self.processes[n]
        assert process is not None
        process.send_signal(sig)
        process.wait(timeout=30)
        self.processes[n] = None

    def stop_all(self) -> None:
        for n, process in enumerate(self.processes):
            if process is not None:
                self.stop(n)

    @property
    def upstreams(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]


@pytest.fixture
def servers(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    monkeypatch.setenv("REACTIONS_DATABASE_URL", pg_url)
    seeded = run_cli(
        "demo", "--articles", "12", "--events", "0", "--no-views", db=tmp_path / "cli.duckdb"
    )
    assert seeded.returncode == 0, seeded.stderr
    group = Servers(tmp_path, pg_url, 3)
    threads = [threading.Thread(target=group.start, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        yield group
    finally:
        group.stop_all()


def articles(url: str) -> list[str]:
    with psycopg.connect(url) as con:
        return [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY 1")]


def load(base: str, ids: list[str], tag: str, result: LoadResult, per_client: int) -> Load:
    """8 clients through nginx, every tap a reader's first: one acknowledged tap is one add."""
    return Load(
        f"{base}/api/v1/reactions",
        8,
        per_client,
        lambda c, i: {
            "article_id": ids[(c * 7 + i) % len(ids)],
            "kind": ("like", "love", "sad")[i % 3],
            "reader_id": f"{tag}-{c}-{i}",
        },
    )


def reader_hashes(pepper: str, reader_ids: set[str]) -> set[str]:
    import hashlib

    return {
        identity_text(
            hashlib.sha256(f"{pepper}:{reader_identity(r, None, None)}".encode()).digest()[:9]
        )
        for r in reader_ids
    }


def check_every_copy(url: str, folder: Path, live: list[int], acknowledged: set[str]) -> None:
    """PostgreSQL holds every acknowledged tap; so does each live server's replica, whose
    figures equal a recount of PostgreSQL's log."""
    with psycopg.connect(url) as pg:
        pepper = pg.execute("SELECT value FROM meta WHERE key = 'reader_pepper'").fetchone()
        logged = {r[0] for r in pg.execute("SELECT reader_hash FROM reaction_events")}
        total = pg.execute("SELECT count(*) FROM reaction_events").fetchone()
    assert pepper is not None and total is not None
    wanted = reader_hashes(pepper[0], acknowledged)
    assert wanted <= logged, f"{len(wanted - logged)} acknowledged taps are not in PostgreSQL"
    for n in live:
        replica = connect(folder / f"replica-{n}.duckdb", migrate=False)
        try:
            cur = replica.cursor()
            copied = {
                r[0] for r in cur.execute("SELECT reader_hash FROM reaction_events").fetchall()
            }
            assert wanted <= copied, f"server {n}'s replica lacks {len(wanted - copied)} taps"
            assert cur.execute("SELECT count(*) FROM reaction_events").fetchall()[0][0] == total[0]
            assert derived_state_mismatches(cur) == reaction_count_mismatches(cur) == 0
            assert view_count_mismatches(cur) == 0
            truth = independent.standing(independent.load_from(cur))
            shown = kpis(cur, Filters(preset="all", exclude_flagged=False))[0]
            assert (shown.reactions, shown.readers) == (len(truth), truth["reader_hash"].nunique())
        finally:
            replica.close()


def test_a_server_killed_and_postgres_restarted_mid_load_lose_no_acknowledged_tap(
    servers: Servers, pg_server: Cluster
) -> None:
    ids = articles(servers.url)
    replies: list[tuple[int, int, dict[str, object], int, object]] = []

    def run(tag: str, per_client: int) -> LoadResult:
        result = post_load(load(base, ids, tag, LoadResult(), per_client))
        replies.extend(result.replies)
        return result

    with nginx_proxy(servers.upstreams) as base:
        assert {r[3] for r in run("calm", 100).replies} == {200}
        during = LoadResult()
        worker = threading.Thread(
            target=post_load, args=(load(base, ids, "kill", during, 300), during)
        )
        worker.start()
        time.sleep(0.3)
        servers.stop(1, signal.SIGKILL)  # mid-load, without a goodbye
        worker.join(timeout=120)
        replies.extend(during.replies)
        assert {r[3] for r in during.replies} <= {200, 502}
        pg_server.stop("fast")  # the record goes away: taps are refused, not faked
        down = run("down", 20)
        assert {r[3] for r in down.replies} == {503}
        assert all(
            r[4] == {"error": "reactions are unavailable for a moment; try again"}
            for r in down.replies
        )
        pg_server.start()  # … and comes back: servers resume without a restart
        time.sleep(1.0)
        assert {r[3] for r in run("back", 100).replies} == {200}
        time.sleep(3)  # the live replicas catch up (a sync every 0.5 s)
    acknowledged = {str(r[2]["reader_id"]) for r in replies if r[3] == 200}
    servers.stop_all()
    check_every_copy(servers.url, servers.folder, [0, 2], acknowledged)


def test_a_rolling_restart_loses_no_acknowledged_tap(servers: Servers) -> None:
    ids = articles(servers.url)
    result = LoadResult()
    with nginx_proxy(servers.upstreams) as base:
        worker = threading.Thread(
            target=post_load, args=(load(base, ids, "roll", result, 500), result)
        )
        worker.start()
        for n in range(3):  # SIGTERM, start again, the next one
            time.sleep(0.5)
            servers.stop(n)
            servers.start(n)
        worker.join(timeout=180)
        acknowledged = {r[2]["reader_id"] for r in result.replies if r[3] == 200}
        assert len(acknowledged) > 0.8 * len(result.replies)
        time.sleep(3)
    servers.stop_all()
    check_every_copy(servers.url, servers.folder, [0, 1, 2], acknowledged)


def test_the_cli_works_against_a_running_cluster(servers: Servers, tmp_path: Path) -> None:
    """While the servers run, the CLI — with its own replica — reads, exports, and writes
    tokens, kinds and integrity decisions through PostgreSQL, and the servers see them."""
    import json
    import urllib.request

    ids = articles(servers.url)
    taps = post_load(load(f"http://127.0.0.1:{servers.ports[0]}", ids, "cli", LoadResult(), 20))
    assert {r[3] for r in taps.replies} == {200}
    mine = tmp_path / "cli-replica.duckdb"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, db=mine)
        assert done.returncode == 0, done.stderr
        return done

    assert "current reactions   160" in cli("stats").stdout
    token = cli("token", "create", "--name", "desk").stdout.strip()
    cli("kinds", "add", "shocked", "--label", "Shocked", "--emoji", "😱", "--sentiment", "-1")
    assert cli("export", "events", "--range", "all").stdout.count("\n") == 161
    cli("integrity", "scan")
    assert cli("integrity", "log").stdout.startswith("flag_id,")
    assert "desk" in cli("token", "list").stdout
    time.sleep(1.5)  # the servers' replicas sync the token and the kind
    request = urllib.request.Request(
        f"http://127.0.0.1:{servers.ports[2]}/api/v1/export/articles.csv?range=all",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.read().count(b"\n") == len(ids) + 1
    with urllib.request.urlopen(f"http://127.0.0.1:{servers.ports[1]}/widget.js") as script:
        assert "shocked" in script.read().decode()
    shocked = {"article_id": ids[0], "kind": "shocked", "reader_id": "after-the-cli"}
    answer = urllib.request.urlopen(
        urllib.request.Request(
            f"http://127.0.0.1:{servers.ports[1]}/api/v1/reactions",
            data=json.dumps(shocked).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"},
        ),
        timeout=30,
    )
    assert json.loads(answer.read())["your_reaction"] == "shocked"
