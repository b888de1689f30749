"""Mood alerts: a shift in an article's mood is named on the Overview; steady articles and
thin samples are not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st

from reactions.clock import utc_now
from reactions.metrics.alerts import AlertRule, mood_alerts
from reactions.store.articles import upsert_articles
from reactions.store.store import Store
from reactions.store.taps import Tap
from tests.conftest import make_articles
from tests.test_dashboard import open_page

RULE = AlertRule("angry", timedelta(hours=1), 20)


def newsroom(store: Store) -> None:
    """budget-vote: calm for days, then angry in the last hour. cup-final: steady."""
    now = utc_now()
    upsert_articles(store, make_articles("quiet-one"))
    taps = [
        Tap(
            "budget-vote",
            f"early-{i}",
            "like" if i % 10 else "angry",
            at=now - timedelta(hours=30, minutes=i),
        )
        for i in range(60)
    ]
    taps += [
        Tap("budget-vote", f"late-{i}", "angry", at=now - timedelta(minutes=50 - i))
        for i in range(30)
    ]
    taps += [
        Tap(
            "cup-final",
            f"fan-{i}",
            "angry" if i % 3 == 0 else "love",
            at=now - timedelta(hours=i % 40),
        )
        for i in range(120)
    ]
    taps += [Tap("quiet-one", f"few-{i}", "angry", at=now - timedelta(minutes=i)) for i in range(5)]
    store.record_taps(taps)


def test_a_jump_in_one_kind_is_an_alert_and_steady_or_thin_articles_are_not(store: Store) -> None:
    newsroom(store)
    alerts = mood_alerts(store.cursor(), RULE, utc_now())
    assert alerts["article_id"].tolist() == ["budget-vote"]
    row = alerts.iloc[0]
    assert row["recent"] == 30 and row["recent_share"] == 1.0
    assert row["before"] == 60 and row["before_share"] == pytest.approx(6 / 60)
    assert mood_alerts(store.cursor(), AlertRule("angry", timedelta(hours=1), 31), utc_now()).empty


def test_the_overview_names_the_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "alerts.duckdb"
    store = Store.open(db)
    upsert_articles(store, make_articles("budget-vote", "cup-final"))
    newsroom(store)
    store.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(db, monkeypatch, {"range": "7d"})
    warnings = [w.value for w in at.warning]
    assert any(
        "of **Title of budget-vote**'s last 1 h (30 reactions), against 10% before" in w
        for w in warnings
    )
    assert not any("cup-final" in w for w in warnings)
    st.cache_resource.clear()
