"""Server-side page rerun times (AppTest: the real Streamlit runtime, no browser).

Every run clears Streamlit's caches first, so each time is a cold render: what an editor
waits for after changing a filter, not a cache hit."""

from __future__ import annotations

import gc
import logging
import os
import statistics
import time
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from reactions.store.connection import connect


def quiet() -> None:
    """AppTest outside `streamlit run` warns on every run that it has no runtime."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def release() -> None:
    """Drop the app's cached store so another process may open the database file."""
    st.cache_resource.clear()
    gc.collect()


# The dashboard pages as the benches time them: (name, page script or None for the Overview,
# the link's query). The article pages are opened on the busiest article.
DASHBOARD_PAGES: tuple[tuple[str, str | None, dict[str, str]], ...] = (
    ("overview, last 7 days", None, {}),
    ("overview, all time", None, {"range": "all"}),
    ("article detail, all time", "views/article.py", {"range": "all"}),
    ("topics, last 30 days", "views/topics.py", {"range": "30d"}),
    ("topics, all time", "views/topics.py", {"range": "all"}),
    ("integrity", "views/integrity.py", {"range": "all"}),
)

ENTRY = str(Path(__file__).parents[1] / "src" / "reactions" / "ui" / "entry.py")


def page_times(
    db: Path,
    page: str | None,
    query: dict[str, str],
    page_query: dict[str, str] | None = None,
    runs: int = 5,
) -> list[float]:
    """Cold render times of `page` opened from a link with `query`; `page_query` are the
    page's own parameters, given when switching to it (as the Overview's row selection)."""
    os.environ["REACTIONS_DB"] = str(db)
    times = []
    for _ in range(runs):
        st.cache_data.clear()
        at = AppTest.from_file(ENTRY, default_timeout=120)
        for key, value in query.items():
            at.query_params[key] = value
        # Land on the default page first, as a navigation would. This also keeps AppTest's
        # one-time start-up out of the timing (its first run scans every installed package
        # for components, 0.2–0.4 s here, which a server does once when it starts).
        at.run()
        if page:
            for key, value in (page_query or {}).items():
                at.query_params[key] = value
            at.switch_page(page)
        st.cache_data.clear()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"{page or 'overview'} failed: {at.exception[0].value}")
    return times


def busiest_article(db: Path) -> str:
    with connect(db, migrate=False) as con:
        return str(
            con.execute(
                "SELECT article_id FROM current_reactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchall()[0][0]
        )


def naive_overview(db: Path) -> float:
    """The naive way: every event into pandas, then the overview's figures by grouping."""
    start = time.perf_counter()
    with connect(db, migrate=False) as con:  # the same configuration as the app's connection
        events = con.execute("SELECT * FROM reaction_events").df()
        articles = con.execute("SELECT article_id, topic FROM articles").df()
    last = (
        events.sort_values("event_id")
        .groupby(["article_id", "reader_hash", "kind_id"], observed=True)
        .tail(1)
    )
    standing = last[last["action"] == "add"].merge(articles, on="article_id")
    cutoff = standing["occurred_at"].max() - pd.Timedelta(days=7)
    week = standing[standing["occurred_at"] >= cutoff]
    week.groupby("kind_id").size()
    week["reader_hash"].nunique()
    week.groupby([week["occurred_at"].dt.floor("D"), "kind_id"]).size()
    week.groupby(["article_id", "kind_id"]).size().unstack(fill_value=0)
    return time.perf_counter() - start


def median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.0f} ms"
