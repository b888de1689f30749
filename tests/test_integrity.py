"""Detection of inflated reactions, measured against the generator's planted bursts and on
hand-made cases: found with reasons, organic reactions left alone."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from reactions import dashboard
from reactions.db import connect
from reactions.export import export_dataset
from reactions.filters import Filters
from reactions.integrity import detect, quality, scan
from reactions.store import Store
from reactions.taps import Tap
from tests import independent
from tests.conftest import run_cli
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
        assert dashboard.kpis(store.cursor(), dirty)[0].reactions == len(raw)
        cleaned = dashboard.kpis(store.cursor(), clean)[0].reactions
        assert cleaned == len(raw) - len(standing_ids & flagged) < len(raw)

        buffer = io.BytesIO()
        result = export_dataset(store.cursor(), "events", clean, buffer)
        exported = set(pd.read_csv(io.BytesIO(buffer.getvalue()))["event_id"])
        assert not exported & flagged and result.manifest["flagged_events"].startswith("excluded")
        assert json.dumps(result.manifest)  # serialisable as it travels

        # dismissing a flag counts its events again, everywhere
        burst = flags.sort_values("events").iloc[-1]
        store.decide(burst["flag_id"], "dismiss", "test", "a real crowd after a TV segment")
        after = dashboard.kpis(store.cursor(), clean)[0].reactions
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
