"""The reactions API under load and under a crash, against a real `streamlit run app.py`:
8 concurrent clients × 1,000 taps must all land with exact counts, and a SIGKILL in the middle
of a load must lose no acknowledged tap. Checked against the database file afterwards, with
pandas recomputations from the raw events."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from reactions.store.derived import derived_state_mismatches, reaction_count_mismatches
from reactions.store.store import Store
from reactions.web.identity import reader_identity
from tools.api_load import Load, LoadResult, post_load
from tools.live_server import start_server

KINDS = ["like", "love", "angry", "sad", "wow"]
UNLIMITED = {
    "REACTIONS_TAPS_PER_IP_MINUTE": "10000000",
    "REACTIONS_TAPS_PER_READER_MINUTE": "100000",
}


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "load.duckdb"
    shutil.copy(demo_db, path)
    return path


def article_ids(db: Path) -> list[str]:
    store = Store.open(db)
    try:
        return [
            r[0]
            for r in store.cursor().execute("SELECT article_id FROM articles ORDER BY 1").fetchall()
        ]
    finally:
        store.close()


def events_after(db: Path, last_before: int) -> tuple[pd.DataFrame, Store]:
    store = Store.open(db)  # replays what the server had not settled into the derived table
    events = (
        store.cursor()
        .execute(
            "SELECT * FROM reaction_events WHERE event_id > ? ORDER BY event_id", [last_before]
        )
        .df()
    )
    return events, store


def last_event_id(db: Path) -> int:
    store = Store.open(db)
    try:
        return int(
            store.cursor().execute("SELECT max(event_id) FROM reaction_events").fetchall()[0][0]
        )
    finally:
        store.close()


def expected_final_kinds(load: Load, articles: list[str]) -> dict[tuple[str, str], str | None]:
    """Replay each client's taps in its own order (readers belong to one client, and a client
    sends one tap at a time): one current reaction per reader and article; the same kind again
    undoes it, another kind switches."""
    final: dict[tuple[str, str], str | None] = {}
    for client in range(load.clients):
        for i in range(load.per_client):
            body = load.body_for(client, i)
            key = (body["reader_id"], body["article_id"])
            final[key] = None if final.get(key) == body["kind"] else body["kind"]
    return final


def test_eight_clients_thousand_taps_each_all_land_and_counts_match_raw_events(db: Path) -> None:
    articles = article_ids(db)[:12]
    before = last_event_id(db)

    def body_for(client: int, i: int) -> dict[str, str]:
        # 40 readers per client over 12 articles and 5 kinds: adds, undos and switches
        return {
            "article_id": articles[(client * 5 + i) % len(articles)],
            "kind": KINDS[(i * 7 + client) % len(KINDS)],
            "reader_id": f"load-{client}-{i % 40}",
        }

    base, process = start_server(db, UNLIMITED)
    try:
        load = Load(f"{base}/api/v1/reactions", 8, 1_000, body_for)
        result = post_load(load)
        shown = {}
        for article in articles:
            with urllib.request.urlopen(f"{base}/api/v1/articles/{article}/reactions") as answer:
                shown[article] = json.loads(answer.read())["counts"]
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert result.failures == []
    assert len(result.accepted) == 8_000, {r[3] for r in result.replies}

    events, store = events_after(db, before)
    try:
        # every accepted tap is in the log: one event per add or undo, two per switch
        per_change = {"added": 1, "undone": 1, "switched": 2}
        assert len(events) == sum(per_change[r[4]["change"]] for r in result.accepted)
        assert events["event_id"].tolist() == list(range(before + 1, before + 1 + len(events)))

        # each reader ends where replaying their own taps says
        expected = expected_final_kinds(load, articles)
        held = (
            store.cursor()
            .execute("SELECT reader_hash, article_id, kind_id FROM current_reactions")
            .fetchall()
        )
        by_reader = {(r, a): k for r, a, k in held}
        for (reader_id, article), kind in expected.items():
            reader_hash = store.hash_reader(reader_identity(reader_id, None, None))
            assert by_reader.get((reader_hash, article)) == kind, (reader_id, article)

        # the counts the API showed equal adds minus removes over the whole raw log
        log = store.cursor().execute("SELECT article_id, kind_id, action FROM reaction_events").df()
        log["signed"] = log["action"].map({"add": 1, "remove": -1})
        truth = log.groupby(["article_id", "kind_id"])["signed"].sum()
        for article, counts in shown.items():
            for kind, count in counts.items():
                assert count == truth.get((article, kind), 0), (article, kind)
        assert (
            derived_state_mismatches(store.cursor())
            == reaction_count_mismatches(store.cursor())
            == 0
        )
    finally:
        store.close()


def test_sigkill_mid_load_loses_no_acknowledged_tap(db: Path) -> None:
    articles = article_ids(db)
    before = last_event_id(db)

    def body_for(client: int, i: int) -> dict[str, str]:
        # every tap a new reader: each acknowledgement stands for exactly one add event
        return {
            "article_id": articles[(client + i) % len(articles)],
            "kind": KINDS[i % len(KINDS)],
            "reader_id": f"kill-{client}-{i}",
        }

    base, process = start_server(db, UNLIMITED)
    load = Load(f"{base}/api/v1/reactions", clients=8, per_client=5_000, body_for=body_for)
    result = LoadResult()
    loader = threading.Thread(target=post_load, args=(load, result))
    loader.start()
    deadline = time.monotonic() + 60
    while len(result.replies) < 1_500 and time.monotonic() < deadline and loader.is_alive():
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # in the middle of the load, no shutdown of any kind
    process.wait(timeout=30)
    loader.join(timeout=60)

    acknowledged = result.accepted
    assert len(acknowledged) >= 1_500, "the load did not get going before the kill"
    assert len(acknowledged) < 8 * 5_000, "the server was killed after the load, not during it"
    assert result.failures, "the clients saw the server die"

    events, store = events_after(db, before)
    try:
        written = set(
            zip(events["reader_hash"], events["article_id"], events["kind_id"], strict=True)
        )
        lost = [
            body
            for _, _, body, _, _ in acknowledged
            if (
                store.hash_reader(reader_identity(body["reader_id"], None, None)),
                body["article_id"],
                body["kind"],
            )
            not in written
        ]
        assert lost == []
        assert set(events["action"]) == {"add"}
        # the derived table trailed the log when the process died; reopening caught it up
        assert (
            derived_state_mismatches(store.cursor())
            == reaction_count_mismatches(store.cursor())
            == 0
        )
    finally:
        store.close()
