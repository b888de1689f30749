"""What every editor page starts from: the store, the kinds and their style, and the filters —
parsed from the URL, shown in the sidebar, and written back to the URL on every change so the
address bar is always a link to the current view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd
import streamlit as st

from reactions.clock import today_in
from reactions.metrics.filters import (
    INTERVALS,
    PRESET_LABELS,
    URL_PARAMS,
    Filters,
    Known,
    parse_query,
    preset_dates,
)
from reactions.store.store import Store
from reactions.ui import data
from reactions.ui.charts import KindStyle
from reactions.ui.format import sentence
from reactions.ui.resources import get_store


@dataclass(frozen=True)
class PageContext:
    db: str
    cur: duckdb.DuckDBPyConnection
    kinds: pd.DataFrame
    style: KindStyle
    known: Known
    filters: Filters


def page_context(*, extra_params: tuple[str, ...] = ()) -> PageContext:
    """Render the filter bar and return the page's context. `extra_params` are the page's own
    URL parameters (kept in the URL beside the filters)."""
    store = get_store()
    db = store.path
    known = data.known(db)
    kinds = data.kinds(db)
    style = KindStyle.from_kinds(kinds)
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    parsed = parse_query(params, known, browser_tz=st.context.timezone)
    # The URL wins on a session's first run (a pasted link) and whenever it carries filters
    # other than the ones this page last wrote (back button, a page switching here with its
    # filters). A URL without filters — page navigation drops the query — keeps the widgets,
    # so filters carry across pages.
    incoming = _filter_params(params)
    written = st.session_state.get("written_query")
    if written is None or (incoming and incoming != written):
        _seed_widgets(parsed.filters, replace_all=True)
    else:
        # Keep the widgets' current values across a page switch; fill any that are gone from
        # the last filters this session chose.
        _seed_widgets(st.session_state.get("chosen_filters", parsed.filters), replace_all=False)
    for problem in parsed.problems:
        st.warning(problem, icon="⚠️")
    filters = _filter_bar(known, style, parsed.filters.tz)
    query = filters.to_query()
    for key in extra_params:
        if key in st.query_params:
            query[key] = st.query_params.get_all(key)
    if query != params:
        st.query_params.from_dict(query)
    st.session_state.written_query = _filter_params(query)
    st.session_state.chosen_filters = filters
    return PageContext(db, store.cursor(), kinds, style, known, filters)


FILTER_PARAMS = URL_PARAMS


def page_header(title: str, ctx: PageContext) -> None:
    """Title, and what the figures below cover: range, timezone, refresh interval."""
    st.title(title)
    st.caption(
        f"{sentence(ctx.filters.describe_range())} · times in {ctx.filters.tz} · "
        f"refreshes every {data.REFRESH_SECONDS} s"
    )
    stale = staleness(get_store())
    if stale:
        st.warning(stale, icon="⏸️")


def staleness(store: Store) -> str | None:
    """With several servers on PostgreSQL: what the figures are as of when this server's
    replica cannot be brought up to date (None while it is)."""
    problem = getattr(store, "sync_problem", None)
    as_of = getattr(store, "as_of", None)
    if not store.replicated or problem is None or as_of is None:
        return None
    return (
        f"Data as of {as_of:%H:%M} UTC: the shared database cannot be reached, so new "
        "reactions are not in these figures yet. They will be once it is back."
    )


def _filter_params(params: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in params.items() if k in FILTER_PARAMS}


def _seed_widgets(f: Filters, *, replace_all: bool) -> None:
    """Set the filter widgets' state from `f`: all of them, or only those without state."""
    values: dict[str, object] = {
        "f_preset": f.preset,
        "f_topics": list(f.topics),
        "f_authors": list(f.authors),
        "f_tags": list(f.tags),
        "f_kinds": list(f.kinds),
        "f_search": f.search,
        "f_interval": f.interval,
        "f_exclude_flagged": f.exclude_flagged,
    }
    if f.preset == "custom":
        values["f_dates"] = (f.start, f.end)
    elif replace_all:
        st.session_state.pop("f_dates", None)
    for key, value in values.items():
        if replace_all or key not in st.session_state:
            st.session_state[key] = value
        else:
            # Re-assigning a widget's own value makes it state the next page's widget of the
            # same key adopts (Streamlit ties plain widget state to the page that drew it).
            st.session_state[key] = st.session_state[key]


def _filter_bar(known: Known, style: KindStyle, tz: str) -> Filters:
    today = today_in(tz)
    with st.sidebar:
        st.markdown("### Filters")
        preset = st.selectbox(
            "Date range",
            list(PRESET_LABELS),
            key="f_preset",
            format_func=lambda p: PRESET_LABELS[p],
        )
        start: date | None
        end: date | None
        if preset == "custom":
            if not st.session_state.get("f_dates"):
                st.session_state.f_dates = (today - timedelta(days=6), today)
            picked = st.date_input("From – to", key="f_dates")
            pair = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
            start, end = (pair[0], pair[-1]) if pair else (today, today)
        else:
            start, end = preset_dates(preset, today)
        topics = st.multiselect("Topics", sorted(known.topics), key="f_topics")
        authors = st.multiselect("Authors", sorted(known.authors), key="f_authors")
        tags = st.multiselect("Tags", sorted(known.tags), key="f_tags")
        kinds = st.multiselect(
            "Reaction kinds",
            list(style.order),
            key="f_kinds",
            format_func=lambda k: style.names.get(k, k),
        )
        search = st.text_input("Title contains", key="f_search", max_chars=200)
        interval = st.radio("Interval", INTERVALS, key="f_interval", horizontal=True)
        exclude_flagged = st.toggle(
            "Exclude flagged events",
            key="f_exclude_flagged",
            help="Leave out reactions that integrity checks flagged as bot-like and no editor "
            "dismissed (see Integrity). Off shows the raw counts.",
        )
        st.caption(f"Times in {tz}. Counts are standing reactions added in the range.")
    return Filters(
        preset=preset,
        start=start,
        end=end,
        topics=tuple(topics),
        authors=tuple(authors),
        tags=tuple(tags),
        kinds=tuple(kinds),
        search=" ".join(search.split()),
        interval=str(interval),
        tz=tz,
        exclude_flagged=bool(exclude_flagged),
    )
