"""Several servers on one PostgreSQL event log, each with its own DuckDB replica: in process
first (several ClusterStores on one real PostgreSQL), then real `streamlit run` servers behind
nginx (test_cluster.py). Nothing is mocked: Debian's PostgreSQL 15, started per session."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from reactions.errors import RateLimited, UnknownArticle, UnknownKind
from reactions.jobs.integrity_scans import scan, scan_recent
from reactions.metrics.filters import Filters
from reactions.metrics.overview import kpis
from reactions.store.articles import upsert_articles
from reactions.store.derived import (
    derived_state_mismatches,
    reaction_count_mismatches,
    view_count_mismatches,
)
from reactions.store.integrity_flags import decide
from reactions.store.kinds import set_kind_enabled
from reactions.store.postgres.cluster import ClusterStore
from reactions.store.taps import Tap
from reactions.web.tokens import create_token
from tests import independent, on_screen
from tests.conftest import TEST_NOW, make_articles
from tools.pg_cluster import Cluster


def server(tmp_path: Path, name: str, url: str) -> ClusterStore:
    """One server's store: its own replica file, PostgreSQL shared."""
    return ClusterStore.open_cluster(tmp_path / f"{name}.duckdb", url, background_sync=False)


@pytest.fixture
def pair(tmp_path: Path, pg_url: str):  # type: ignore[no-untyped-def]
    a, b = server(tmp_path, "a", pg_url), server(tmp_path, "b", pg_url)
    upsert_articles(a, make_articles("budget-vote", "cup-final"))
    b.sync_now()
    yield a, b
    a.close()
    b.close()


def consistent(store: ClusterStore) -> None:
    """The replica's derived tables are exactly what its copy of the logs implies."""
    cur = store.cursor()
    assert derived_state_mismatches(cur) == 0
    assert reaction_count_mismatches(cur) == 0
    assert view_count_mismatches(cur) == 0


def test_a_tap_is_decided_across_servers_as_a_replay_of_the_log_would(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    assert a.record_reaction("budget-vote", "ana", "like").change == "added"
    # the same reader on the other server: that server sees her like, so it is an undo
    assert b.record_reaction("budget-vote", "ana", "like").change == "undone"
    switched = a.record_reaction("budget-vote", "ana", "love")
    assert (switched.change, switched.counts["love"]) == ("added", 1)
    assert b.record_reaction("budget-vote", "ana", "angry").change == "switched"
    for store in (a, b):
        store.sync_now()
        assert kpis(store.cursor(), Filters(preset="all"))[0].reactions == 1
        consistent(store)


def test_one_reader_tapping_on_two_servers_at_once_ends_as_the_log_says(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair

    failures: list[BaseException] = []

    def tapper(store: ClusterStore, kinds: list[str]) -> None:
        try:
            for i in range(150):
                store.record_reaction("cup-final", f"fan-{i % 10}", kinds[i % len(kinds)])
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=tapper, args=(s, k))
        for s, k in ((a, ["like", "love"]), (b, ["love", "sad"]), (a, ["sad"]), (b, ["like"]))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []  # no tap refused: no deadlock between the servers' batches
    a.sync_now()
    b.sync_now()
    raw = independent.load_from(a.cursor())
    truth = independent.standing(raw)
    assert len(truth) <= 10  # one reaction per reader at most
    for store in (a, b):
        consistent(store)
        assert kpis(store.cursor(), Filters(preset="all"))[0].reactions == len(truth)
    with psycopg.connect(a.url) as con:  # PostgreSQL's own state agrees with its log
        held = con.execute("SELECT count(*) FROM current_reactions").fetchone()
        counted = con.execute("SELECT sum(reactions) FROM article_counts").fetchone()
    assert held is not None and counted is not None
    assert held[0] == counted[0] == len(truth)


def test_views_count_once_per_reader_article_and_day_across_servers(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    assert a.record_view("cup-final", "reader-1").counted is True
    assert b.record_view("cup-final", "reader-1").counted is False
    assert b.record_view("cup-final", "reader-2").counted is True
    for store in (a, b):
        store.sync_now()
        assert kpis(store.cursor(), Filters(preset="all"))[0].views == 2
        consistent(store)


def test_a_views_answer_is_the_bar_every_server_agrees_on(pair) -> None:  # type: ignore[no-untyped-def]
    """The widget's one request per page view: the view's answer holds the article's counts
    and the reader's reaction as PostgreSQL has them, taps on other servers included."""
    import asyncio

    a, b = pair
    a.record_reaction("cup-final", "ana", "love")
    a.record_reaction("cup-final", "ben", "like")
    seen = asyncio.run(b.record_view_async("cup-final", "ana"))
    assert seen.counted
    assert seen.counts is not None
    assert (seen.counts["love"], seen.counts["like"], sum(seen.counts.values())) == (1, 1, 2)
    assert list(seen.counts) == list(a.bar_counts("cup-final").counts)  # every kind, in order
    assert seen.mine == ("love",)
    again = asyncio.run(b.record_view_async("cup-final", "cy"))
    assert again.mine == () and again.counts == seen.counts


def test_the_replicas_own_bar_follows_other_servers_taps(pair) -> None:  # type: ignore[no-untyped-def]
    """While PostgreSQL is away the bar comes from the replica (Store.bar_counts): after a
    sync it shows the taps other servers made, not the counts it first remembered."""
    from reactions.store.store import Store

    a, b = pair
    a.record_reaction("cup-final", "ben", "like")
    b.sync_now()  # (the first sync also copies the small tables, which resets everything)
    assert sum(Store.bar_counts(b, "cup-final").counts.values()) == 1
    a.record_reaction("cup-final", "ana", "love")
    b.sync_now()
    assert b.synced is not None and not b.synced.tables  # only events came
    replica = Store.bar_counts(b, "cup-final", b.hash_reader("ana"))
    assert replica.counts["love"] == 1 and replica.mine == ["love"]


def test_the_reader_page_shows_every_servers_taps_with_its_first_view(  # type: ignore[no-untyped-def]
    pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader page on another server: its first bar (the view's answer, from
    PostgreSQL) holds the taps just made on server a, and the view is counted there."""
    import streamlit as st

    from tests.test_reader_page import bar, open_reader

    a, _ = pair
    a.record_reaction("cup-final", "ana", "love")
    a.record_reaction("cup-final", "ben", "love")
    monkeypatch.setenv("REACTIONS_DATABASE_URL", a.url)
    monkeypatch.setenv("REACTIONS_DB", str(tmp_path / "reader-replica.duckdb"))
    st.cache_resource.clear()
    try:
        shown = bar(open_reader(article="cup-final"))
    finally:
        st.cache_resource.clear()
    assert " · 2 · 100%" in shown["love"][0]
    with psycopg.connect(a.url) as con:  # and the view was counted in PostgreSQL
        row = con.execute("SELECT count(*) FROM view_events WHERE article_id = 'cup-final'")
        assert row.fetchone() == (1,)


def test_bad_taps_are_refused_by_the_shared_record(pair) -> None:  # type: ignore[no-untyped-def]
    a, _ = pair
    with pytest.raises(UnknownArticle):
        a.record_reaction("no-such-story", "r", "like")
    with pytest.raises(UnknownKind):
        a.record_reaction("cup-final", "r", "elated")
    set_kind_enabled(a, "funny", False)
    with pytest.raises(UnknownKind):
        a.record_reaction("cup-final", "r", "funny")


def test_rate_limits_hold_across_servers(pair) -> None:  # type: ignore[no-untyped-def]
    """A bot spreading its taps over two servers gets one budget, not two."""
    a, b = pair
    limits = (("reactions:net:203.0.113.9", 10),)
    taken = 0
    with pytest.raises(RateLimited) as refused:
        for i in range(30):
            store = (a, b)[i % 2]
            store.record_reaction("cup-final", f"bot-{i}", "love", limits=limits)
            taken += 1
    assert taken == 10 and refused.value.retry_after >= 1


def test_the_replica_never_skips_a_transaction_that_commits_late(pair) -> None:  # type: ignore[no-untyped-def]
    """A writer holds its transaction open (its event id is lower) while later taps commit
    and a replica syncs past them; once it commits, the next sync has it."""
    a, b = pair
    slow = psycopg.connect(a.url)
    slow.execute(
        "INSERT INTO reaction_events (occurred_at, article_id, reader_hash, kind_id, action, "
        "source) VALUES (%s, 'cup-final', 'slow-reader', 'wow', 'add', 'import')",
        [TEST_NOW],
    )  # not committed yet
    for i in range(5):
        a.record_reaction("cup-final", f"quick-{i}", "like")
    b.sync_now()
    ids = b.cursor().execute("SELECT event_id FROM reaction_events ORDER BY 1").df()["event_id"]
    assert len(ids) == 5 and ids.min() > 1  # the held event's id is below them, not here yet
    slow.commit()
    slow.close()
    b.sync_now()
    events = b.cursor().execute("SELECT reader_hash FROM reaction_events").df()
    assert len(events) == 6 and "slow-reader" in set(events["reader_hash"])
    consistent(b)


def test_admin_writes_go_to_postgres_and_every_replica_follows(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    token = create_token(a, "bi")
    b.sync_now()
    assert b.cursor().execute("SELECT name FROM api_tokens").fetchall() == [("bi",)]
    assert token.token.startswith("rx_")
    # the same pepper everywhere: one reader is one hash on every server
    assert a.hash_reader("ana") == b.hash_reader("ana")
    # a newcomer server starts from PostgreSQL alone
    c = server(tmp_path, "c", a.url)
    try:
        assert c.cursor().execute("SELECT count(*) FROM articles").fetchall() == [(2,)]
    finally:
        c.close()


def test_flags_live_in_postgres_and_every_replica_leaves_them_out(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    start = TEST_NOW - timedelta(hours=3)
    calm = [
        Tap("cup-final", f"fan-{i}", "love", at=start + timedelta(minutes=i), network=f"h{i}")
        for i in range(60)
    ]
    a.record_taps(calm)
    a.sync_now()
    scan(a)  # the bars, from the whole log
    burst = [
        Tap(
            "budget-vote",
            f"bot-{i}",
            "angry",
            at=start + timedelta(hours=1, seconds=i),
            network="farm",
        )
        for i in range(40)
    ]
    b.record_taps(burst)
    b.sync_now()
    report = scan_recent(b)
    assert (report.scope, report.events_flagged) == ("recent", 40)
    a.sync_now()
    for store in (a, b):
        assert kpis(store.cursor(), Filters(preset="all"))[0].reactions == 60
        assert (
            kpis(store.cursor(), Filters(preset="all", exclude_flagged=False))[0].reactions == 100
        )
        consistent(store)
    # an editor on one server dismisses it: every server counts the burst again
    flag = str(a.cursor().execute("SELECT flag_id FROM integrity_flags").fetchall()[0][0])
    decide(a, flag, "dismiss", "desk", "a real crowd after a match")
    b.sync_now()
    assert kpis(b.cursor(), Filters(preset="all"))[0].reactions == 100
    consistent(b)


def test_a_demo_fills_postgres_in_bulk_and_replicas_agree_with_its_log(
    tmp_path: Path, pg_url: str
) -> None:
    from reactions.demo.newsroom import generate, populate

    a = server(tmp_path, "a", pg_url)
    try:
        newsroom = generate(articles=20, events=30_000, days=10, seed=4, end=TEST_NOW)
        views = populate(a, newsroom)
        assert views > 0
        consistent(a)
        raw = independent.load_from(a.cursor())
        assert len(raw.events) == len(newsroom.events)
        b = server(tmp_path, "b", pg_url)
        try:
            consistent(b)
            for f in (Filters(preset="all"), Filters(preset="all", topics=("World",))):
                assert kpis(b.cursor(), f) == kpis(a.cursor(), f)
        finally:
            b.close()
        with psycopg.connect(pg_url) as con:
            live = con.execute("SELECT count(*) FROM current_reactions").fetchone()
        assert live is not None and live[0] == len(independent.standing(raw))
    finally:
        a.close()


def test_upserting_articles_reports_added_and_updated(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    more = make_articles("cup-final", "new-story")
    more["published_at"] = [pd.Timestamp("2026-11-02 08:00")] * 2
    report = upsert_articles(a, more)
    assert (report.added, report.updated) == (1, 1)
    b.sync_now()
    assert b.cursor().execute("SELECT count(*) FROM articles").fetchall() == [(3,)]


def test_pages_say_what_their_data_is_as_of_while_postgres_is_away(
    tmp_path: Path,
    pg_url: str,
    pg_server: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dashboard keeps serving its replica when PostgreSQL goes away, and says since
    when; the notice goes once it is back, with nothing restarted."""
    import time

    import streamlit as st

    from tests.test_dashboard import open_page

    seed = server(tmp_path, "seed", pg_url)
    upsert_articles(seed, make_articles("cup-final"))
    seed.record_reaction("cup-final", "ana", "love")
    seed.close()
    monkeypatch.setenv("REACTIONS_DATABASE_URL", pg_url)
    st.cache_resource.clear()
    db = tmp_path / "page-replica.duckdb"

    def notices() -> list[str]:
        at = open_page(db, monkeypatch, {"range": "all"})
        assert on_screen.kpis(at)["Reactions"].value == "1"
        return [w.value for w in at.warning if "Data as of" in w.value]

    try:
        assert notices() == []
        pg_server.stop("fast")
        time.sleep(1.5)  # a sync or two fail
        assert len(notices()) == 1 and "cannot be reached" in notices()[0]
        pg_server.start()
        time.sleep(1.5)
        assert notices() == []
    finally:
        if _stopped(pg_server):
            pg_server.start()
        st.cache_resource.clear()


def _stopped(cluster: Cluster) -> bool:
    import psycopg

    try:
        psycopg.connect(cluster.url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return True
    return False


def test_one_server_at_a_time_runs_the_scheduled_scan(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    with a.only_one("integrity-scan") as first, b.only_one("integrity-scan") as second:
        assert (first, second) == (True, False)
    with b.only_one("integrity-scan") as later:
        assert later  # released when the first server's turn ended


def test_taps_while_postgres_is_away_answer_503_with_retry_after_and_write_nothing(
    tmp_path: Path, pg_url: str, pg_server: Cluster
) -> None:
    from tests.conftest import app_client

    seed = server(tmp_path, "seed", pg_url)
    upsert_articles(seed, make_articles("cup-final"))
    seed.close()
    body = {"article_id": "cup-final", "kind": "love", "reader_id": "ana"}
    with app_client(tmp_path / "api.duckdb", {"REACTIONS_DATABASE_URL": pg_url}) as client:
        assert client.post("/api/v1/reactions", json=body).status_code == 200
        pg_server.stop("fast")
        try:
            refused = client.post("/api/v1/reactions", json={**body, "reader_id": "bo"})
            viewed = client.post("/api/v1/views", json={"article_id": "cup-final"})
        finally:
            pg_server.start()
        for answer in (refused, viewed):
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "5"
            assert answer.json() == {"error": "reactions are unavailable for a moment; try again"}
        # back without a restart: the next tap is taken
        assert client.post("/api/v1/reactions", json={**body, "reader_id": "cy"}).status_code == 200
    with psycopg.connect(pg_url) as con:
        readers = con.execute("SELECT count(DISTINCT reader_hash) FROM reaction_events").fetchone()
    assert readers is not None and readers[0] == 2  # ana and cy; bo's refused tap wrote nothing
