"""Detection of inflated reactions, measured against the generator's planted bursts and on
hand-made cases: found with reasons, organic reactions left alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from reactions.db import connect
from reactions.integrity import detect, quality
from reactions.store import Store
from reactions.taps import Tap


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
