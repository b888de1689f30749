"""Cached reads for the dashboard. Results live `REFRESH_SECONDS` at most, the same interval
the live fragments rerun on, so a reader's tap shows within that time; writers call
`forget()` to drop them at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from reactions.clock import utc_now
from reactions.metrics import article_detail, article_lists, overview, queries, time_series
from reactions.metrics import topics as topic_figures
from reactions.metrics.alerts import AlertRule, mood_alerts
from reactions.metrics.filters import Filters, Known
from reactions.metrics.queries import reaction_kinds
from reactions.ui.resources import get_store

REFRESH_SECONDS = 10


def _cur() -> duckdb.DuckDBPyConnection:
    return get_store().cursor()


@st.cache_data(ttl=60, show_spinner=False)
def known(db: str) -> Known:
    return queries.known_values(_cur())


@st.cache_data(ttl=60, show_spinner=False)
def kinds(db: str) -> pd.DataFrame:
    return reaction_kinds(_cur(), enabled_only=False)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def kpis(db: str, f: Filters) -> tuple[overview.Kpis, overview.Kpis | None]:
    cur = _cur()
    return overview.kpis(cur, effective(db, f))


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def mix(db: str, f: Filters) -> pd.DataFrame:
    cur = _cur()
    return time_series.mix_over_time(cur, effective(db, f))


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def views_over_time(db: str, f: Filters) -> pd.DataFrame:
    return time_series.views_over_time(_cur(), f)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def top(db: str, f: Filters, kind_ids: tuple[str, ...]) -> pd.DataFrame:
    cur = _cur()
    return article_lists.top_articles(cur, effective(db, f), list(kind_ids))


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def article_counts(db: str, f: Filters, kind_ids: tuple[str, ...]) -> pd.DataFrame:
    cur = _cur()
    return article_lists.article_counts(cur, effective(db, f), list(kind_ids))


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def topics(db: str, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Per topic: counts per kind, trend, the previous period's totals, and views."""
    cur = _cur()
    f = effective(db, f)
    return (
        topic_figures.topic_counts(cur, f),
        topic_figures.topic_trend(cur, f),
        topic_figures.previous_topic_totals(cur, f),
        topic_figures.topic_views(cur, f),
    )


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def topic_counts(db: str, f: Filters) -> pd.DataFrame:
    return topic_figures.topic_counts(_cur(), effective(db, f))


@st.cache_data(ttl=60, show_spinner=False)
def article(db: str, article_id: str) -> dict[str, Any] | None:
    return article_detail.article(_cur(), article_id)


# One article's figures, by name, each cached on its own: the article page's KPIs need only
# the first two and do not wait for the others (the switches scan the event log).
ARTICLE_FIGURES: dict[str, Callable[[duckdb.DuckDBPyConnection, Filters, str], Any]] = {
    "breakdown": article_detail.article_breakdown,
    "views": article_detail.article_views,
    "timeline": article_detail.article_timeline,
    "view_timeline": article_detail.article_view_timeline,
    "transitions": article_detail.article_transitions,
}


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def article_figure(db: str, name: str, f: Filters, article_id: str) -> Any:
    return ARTICLE_FIGURES[name](_cur(), effective(db, f), article_id)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def alerts(db: str, rule: AlertRule) -> pd.DataFrame:
    return mood_alerts(_cur(), rule, utc_now())


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _anything_excluded(db: str) -> bool:
    return overview.anything_excluded(_cur())


def effective(db: str, f: Filters) -> Filters:
    """overview.effective, asking the database once per refresh rather than per figure."""
    return overview.effective(_cur(), f, excluding=_anything_excluded(db))


def forget() -> None:
    """Drop every cached figure (after a write this process made)."""
    st.cache_data.clear()
