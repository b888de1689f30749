"""The Streamlit app under AppTest: the real runtime, the real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from reactions.db import connect

ENTRY = str(Path(__file__).parents[1] / "src" / "reactions" / "ui" / "entry.py")
KINDS = ["like", "dislike", "love", "funny", "angry", "sad", "wow"]


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def open_app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("REACTIONS_DB", str(db))
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_articles_page_counts_match_the_raw_events(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Independent computation: every event into pandas, adds minus removes per article and kind.
    with connect(demo_db, migrate=False) as con:
        events = con.execute("SELECT article_id, kind_id, action FROM reaction_events").df()
        titles = con.execute("SELECT title, article_id FROM articles").df()
    events["signed"] = events["action"].map({"add": 1, "remove": -1})
    expected = events.pivot_table(
        index="article_id", columns="kind_id", values="signed", aggfunc="sum", fill_value=0
    )

    at = open_app(demo_db, monkeypatch)
    shown = at.dataframe[0].value
    shown.index = shown["title"].map(titles.set_index("title")["article_id"])
    assert len(shown) == 81  # 80 generated + the seed article
    for kind in KINDS:
        assert shown[kind].to_dict() == expected[kind].reindex(shown.index, fill_value=0).to_dict()
    assert shown["total"].to_dict() == shown[KINDS].sum(axis=1).to_dict()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Current reactions"] == f"{int(expected.to_numpy().sum()):,}"


def test_empty_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(tmp_path / "empty.duckdb", monkeypatch)
    assert "No articles yet" in at.info[0].value
    assert len(at.dataframe) == 0
