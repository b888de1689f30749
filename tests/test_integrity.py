"""Detection of inflated reactions, measured against the generator's planted bursts and on
hand-made cases: found with reasons, organic reactions left alone."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st

from reactions.exports.writer import export_dataset
from reactions.jobs.integrity_scans import scan
from reactions.metrics import overview
from reactions.metrics.filters import Filters
from reactions.metrics.integrity import detect
from reactions.metrics.integrity_reports import quality
from reactions.store.connection import connect
from reactions.store.integrity_flags import decide
from reactions.store.store import Store
from reactions.store.taps import Tap
from reactions.web.tokens import create_token
from tests import independent
from tests.conftest import app_client, run_cli
from tests.test_dashboard import open_page


def test_planted_bursts_are_found_and_organic_reactions_are_left_alone(demo_db: Path) -> None:
    with connect(demo_db, migrate=False) as con:
        cur = con.cursor()
        flags, flagged = detect(cur)
        result = quality(cur, flagged)
        labels = cur.execute("SELECT count(*) FROM synthetic_labels").fetchall()[0][0]
        planted_styles = {
            r[0] for r in cur.execute("SELECT DISTINCT label FROM synthetic_labels").fetchall()
        }
    assert result.planted == labels > 0
    assert result.recall >= 0.9
    assert result.organic_rate <= 0.02
    rule_for = {
        "coordinated_burst": "network_burst",
        "toggle_storm": "toggle_storm",
        "hyperactive_reader": "hyperactive_reader",
    }
    assert set(flags["rule"]) == {rule_for[style] for style in planted_styles}
    assert flagged["event_id"].is_unique  # an event belongs to one flag
    assert flags["events"].sum() == len(flagged)
    assert flags["reason"].str.contains(r"\d+ \w+ (?:reactions|taps) in \d+ minutes? from").all()


def test_a_reader_toggling_one_article_is_flagged_with_a_reason(store: Store) -> None:
    start = datetime(2026, 11, 2, 9, 0)
    normal = [
        Tap("cup-final", f"fan-{i}", "love", at=start + timedelta(minutes=i)) for i in range(40)
    ]
    storm = [
        Tap("budget-vote", "bot", "angry", at=start + timedelta(seconds=3 * i)) for i in range(30)
    ]
    store.record_taps(normal + storm)
    flags, flagged = detect(store.cursor())
    assert flags["rule"].tolist() == ["toggle_storm"]
    assert flags["reason"].iloc[0].startswith("30 angry taps in 1 minute from 1 reader")
    ids = (
        store.cursor()
        .execute("SELECT event_id FROM reaction_events WHERE article_id = 'budget-vote' ORDER BY 1")
        .fetchall()
    )
    assert sorted(flagged["event_id"]) == [r[0] for r in ids]  # exactly the storm's events


def test_cleaned_figures_leave_out_exactly_the_undismissed_flagged_events(
    demo_db: Path, tmp_path: Path
) -> None:

    db = tmp_path / "flagged.duckdb"
    shutil.copy(demo_db, db)
    store = Store.open(db)
    try:
        flags = scan(store)
        flagged = {
            r[0] for r in store.cursor().execute("SELECT event_id FROM flagged_events").fetchall()
        }
        raw = independent.standing(independent.load_from(store.cursor()))
        clean, dirty = Filters(preset="all"), Filters(preset="all", exclude_flagged=False)
        standing_ids = set(
            store.cursor().execute("SELECT event_id FROM current_reactions").df()["event_id"]
        )
        assert overview.kpis(store.cursor(), dirty)[0].reactions == len(raw)
        cleaned = overview.kpis(store.cursor(), clean)[0].reactions
        assert cleaned == len(raw) - len(standing_ids & flagged) < len(raw)

        buffer = io.BytesIO()
        result = export_dataset(store.cursor(), "events", clean, buffer)
        exported = set(pd.read_csv(io.BytesIO(buffer.getvalue()))["event_id"])
        assert not exported & flagged and result.manifest["flagged_events"].startswith("excluded")
        assert json.dumps(result.manifest)  # serialisable as it travels

        # dismissing a flag counts its events again, everywhere
        burst = flags.sort_values("events").iloc[-1]
        decide(store, burst["flag_id"], "dismiss", "test", "a real crowd after a TV segment")
        after = overview.kpis(store.cursor(), clean)[0].reactions
        burst_ids = set(
            store.cursor()
            .execute("SELECT event_id FROM flagged_events WHERE flag_id = ?", [burst["flag_id"]])
            .df()["event_id"]
        )
        assert after == cleaned + len(standing_ids & burst_ids)
    finally:
        store.close()


def test_the_integrity_page_names_flags_and_records_a_decision(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    db = tmp_path / "page.duckdb"
    shutil.copy(demo_db, db)
    store = Store.open(db)
    flags = scan(store)
    store.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(db, monkeypatch, {"range": "all"}, "views/integrity.py")
    table = at.dataframe[0].value
    assert set(table["flag_id"]) == set(flags["flag_id"]) and set(table["status"]) == {"undecided"}
    chosen = at.selectbox(key="integrity_flag").value
    at.radio(key="integrity_decision").set_value("confirm")
    at.text_input(key="integrity_why").set_value("108 taps by one reader in 4 minutes")
    at.button[[b.label for b in at.button].index("Record decision")].click().run()
    assert not at.exception
    assert f"{chosen}: confirmed." in [s.value for s in at.success]
    statuses = dict(
        zip(at.dataframe[0].value["flag_id"], at.dataframe[0].value["status"], strict=True)
    )
    assert statuses[chosen] == "confirmed"
    st.cache_resource.clear()


def test_a_one_kind_burst_from_many_readers_without_a_shared_network_is_flagged(
    store: Store,
) -> None:
    start = datetime(2026, 11, 3, 8, 0)
    kinds = ["like", "love", "angry", "sad", "wow"]
    calm = [
        Tap("cup-final", f"r{i}", kinds[i % 5], at=start + timedelta(minutes=7 * i))
        for i in range(80)
    ]
    crowd = [
        Tap("budget-vote", f"crowd-{i}", "angry", at=start + timedelta(seconds=3 * i))
        for i in range(60)
    ]
    store.record_taps(calm + crowd)
    flags, flagged = detect(store.cursor())
    assert flags["rule"].tolist() == ["kind_burst"]
    assert flags["reason"].iloc[0].startswith("60 angry reactions in 3 minutes from 60 readers")
    assert len(flagged) == 60


def test_the_exclusion_log_holds_every_decision_from_the_cli(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "log.duckdb"
    shutil.copy(demo_db, db)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("integrity", *args, db=db)

    scanned = run("scan")
    assert scanned.returncode == 0, scanned.stderr
    flag_id = scanned.stdout.split()[0]
    assert run("decide", flag_id, "confirm", "--why", "one reader, 108 taps").returncode == 0
    assert run("decide", flag_id, "dismiss", "--why", "the reader was a tester").returncode == 0
    log = pd.read_csv(io.StringIO(run("log").stdout))
    mine = log[log["flag_id"] == flag_id]
    assert mine["decision"].tolist() == ["confirm", "dismiss"]
    assert mine["why"].tolist() == ["one reader, 108 taps", "the reader was a tester"]
    assert mine["decided_by"].str.startswith("cli:").all()
    bad = run("decide", flag_id, "confirm", "--why", "   ")
    assert bad.returncode == 1 and bad.stderr.strip() == "error: say why, in at most 500 characters"


def _sport_story(cur: Any) -> str:
    return str(
        cur.execute(
            "SELECT article_id FROM articles WHERE topic = 'Sports' ORDER BY published_at DESC"
        ).fetchall()[0][0]
    )


def test_a_burst_planted_through_the_http_api_carries_its_network_and_is_flagged(
    demo_db: Path, tmp_path: Path
) -> None:
    """150 new reader ids tapping ❤️ on one Sports story within a second, from one address,
    through the real routes: every tap and view carries the same salted network, and a scan
    of recent events flags exactly those taps, which leave the cleaned figures."""
    from reactions.jobs.integrity_scans import scan_recent
    from reactions.store.derived import reaction_count_mismatches
    from reactions.ui.resources import get_store

    db = tmp_path / "planted.duckdb"
    shutil.copy(demo_db, db)
    setup = Store.open(db)
    scan(setup)  # a full scan first: the bars recent scans are held to
    story = _sport_story(setup.cursor())
    before = setup.cursor().execute("SELECT max(event_id) FROM reaction_events").fetchall()
    setup.close()
    with app_client(db, client=("203.0.113.77", 41000)) as client:
        for i in range(150):
            body = {"article_id": story, "reader_id": f"bot-{i}"}
            assert client.post("/api/v1/views", json=body).status_code == 200
            tap = client.post("/api/v1/reactions", json={**body, "kind": "love"})
            assert tap.status_code == 200, tap.text
        store = get_store()
        cur = store.cursor()
        planted = cur.execute(
            "SELECT event_id, network_hash FROM reaction_events WHERE event_id > ?",
            [before[0][0]],
        ).df()
        assert len(planted) == 150 and planted["network_hash"].nunique() == 1
        assert planted["network_hash"].iloc[0] is not None
        views = cur.execute(
            "SELECT DISTINCT network_hash FROM view_events WHERE network_hash IS NOT NULL"
        ).fetchall()
        assert views == [(planted["network_hash"].iloc[0],)]

        report = scan_recent(store)
        assert report.scope == "recent" and report.events_read == 150
        cur = store.cursor()
        flagged = cur.execute(
            "SELECT f.event_id, g.rule FROM flagged_events f JOIN integrity_flags g "
            "USING (flag_id) WHERE f.event_id > ?",
            [before[0][0]],
        ).df()
        assert set(flagged["event_id"]) == set(planted["event_id"])
        assert set(flagged["rule"]) == {"network_burst"}
        clean = overview.kpis(cur, Filters(preset="all", topics=("Sports",)))[0]
        raw = overview.kpis(cur, Filters(preset="all", topics=("Sports",), exclude_flagged=False))[
            0
        ]
        assert raw.reactions - clean.reactions >= 150
        assert reaction_count_mismatches(cur) == 0
        assert scan_recent(store).scope == "nothing new"


def test_scans_of_recent_events_grow_an_open_flag_and_leave_a_decided_one(store: Store) -> None:
    """A burst that goes on across two scheduled scans is one flag, grown; once an editor
    has decided on it, more of the same burst is a flag of its own."""
    from reactions.jobs.integrity_scans import scan_recent
    from reactions.store.derived import reaction_count_mismatches
    from reactions.store.integrity_flags import decide

    start = datetime(2026, 11, 2, 9, 0)
    calm = [
        Tap("cup-final", f"fan-{i}", "love", at=start + timedelta(minutes=i), network=f"home-{i}")
        for i in range(60)
    ]
    store.record_taps(calm)
    assert scan_recent(store).scope == "all"  # never scanned: the first is a full scan

    def burst(first: int, at: datetime) -> list[Tap]:
        return [
            Tap(
                "budget-vote",
                f"bot-{first + i}",
                "angry",
                at=at + timedelta(seconds=i),
                network="farm",
            )
            for i in range(40)
        ]

    store.record_taps(burst(0, start + timedelta(hours=2)))
    first = scan_recent(store)
    assert (first.scope, first.flags, first.events_flagged) == ("recent", 1, 40)
    store.record_taps(burst(40, start + timedelta(hours=2, minutes=1)))
    grown = scan_recent(store)
    assert (grown.flags, grown.events_flagged) == (1, 40)
    flags = store.cursor().execute("SELECT flag_id, events, reason FROM integrity_flags").df()
    assert len(flags) == 1 and flags["events"].iloc[0] == 80
    assert flags["reason"].iloc[0].startswith("80 angry reactions in 2 minutes from 80 readers")

    decide(store, flags["flag_id"].iloc[0], "confirm", "test", "a bot farm")
    store.record_taps(burst(80, start + timedelta(hours=2, minutes=2)))
    scan_recent(store)
    flags = store.cursor().execute("SELECT flag_id, events FROM integrity_flags").df()
    assert sorted(flags["events"]) == [40, 80]
    cleaned = overview.kpis(store.cursor(), Filters(preset="all"))[0]
    assert cleaned.reactions == 60  # all 120 bot reactions left out: confirmed, and new
    assert reaction_count_mismatches(store.cursor()) == 0


def test_a_running_server_flags_a_live_burst_by_itself(demo_db: Path, tmp_path: Path) -> None:
    """A real server scanning on its own schedule: a burst of ❤️ from one network, planted
    over real HTTP, leaves the cleaned figures of the export API within seconds, with nobody
    pressing anything; the raw figures keep it."""
    from tools.api_load import Load, post_load
    from tools.live_server import live_server

    db = tmp_path / "live.duckdb"
    shutil.copy(demo_db, db)
    setup = Store.open(db)
    scan(setup)
    story = _sport_story(setup.cursor())
    token = create_token(setup, "watcher").token
    setup.close()

    def loves(base: str, flagged: str) -> int:
        request = urllib.request.Request(
            f"{base}/api/v1/export/articles.csv?range=all&topic=Sports&flagged={flagged}",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            table = pd.read_csv(io.BytesIO(response.read()))
        return int(table.loc[table["article_id"] == story, "love"].iloc[0])

    with live_server(db, {"REACTIONS_SCAN_EVERY_SECONDS": "1"}) as base:
        clean_before, raw_before = loves(base, "exclude"), loves(base, "include")
        planted = post_load(
            Load(
                f"{base}/api/v1/reactions",
                clients=1,
                per_client=150,
                body_for=lambda _, i: {"article_id": story, "kind": "love", "reader_id": f"b{i}"},
                source=lambda _c, _i: "127.9.9.9",
            )
        )
        assert len(planted.accepted) == 150, planted.failures
        deadline = time.monotonic() + 30
        while loves(base, "exclude") != clean_before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert loves(base, "exclude") == clean_before
        assert loves(base, "include") == raw_before + 150
