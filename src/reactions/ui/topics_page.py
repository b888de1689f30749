"""Topics: which topic draws which reaction, how strongly each topic's readers react (the
rate per 100 views), and each topic's volume and trend."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from reactions.exports.writer import file_name
from reactions.metrics.article_lists import wide_counts
from reactions.metrics.buckets import bucket_grid
from reactions.metrics.stats import rate_interval
from reactions.ui import charts, data
from reactions.ui.context import PageContext, page_context, page_header
from reactions.ui.downloads import table_button
from reactions.ui.format import delta


def render() -> None:
    ctx = page_context()
    page_header("Topics", ctx)
    live_topics(ctx)


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_topics(ctx: PageContext) -> None:
    counts, trend, previous, views = data.topics(ctx.db, ctx.filters)
    if counts.empty and not views.sum():
        st.info("No reactions or views in this range. Widen the dates or clear a filter.")
        return
    kinds = list(ctx.style.order)
    reacted = (
        wide_counts(counts, "topic", kinds).sort_values("total", ascending=False)
        if not counts.empty
        else pd.DataFrame(columns=[*kinds, "total"], dtype="int64")
    )
    if not reacted.empty:
        shares = reacted[kinds].div(reacted["total"], axis=0)
        st.plotly_chart(charts.topic_heatmap(shares, reacted, ctx.style), width="stretch")
        table_button(
            "This heatmap's data (CSV)",
            lambda: topic_shares(reacted, shares),
            file_name("topics", ctx.filters, "csv"),
            key="download_heatmap",
        )
    # Topics viewed but not reacted to are rows too (rate 0), after those with reactions.
    unreacted = views.index[(views > 0) & ~views.index.isin(reacted.index)]
    wide = reacted.reindex([*reacted.index, *sorted(unreacted)], fill_value=0)
    grid = bucket_grid(ctx.filters, [trend["bucket"]])
    table = topic_table(wide, trend, previous, views, ctx.style, grid)
    if table["views"].sum():
        st.plotly_chart(charts.topic_rates(table), width="stretch")
    else:
        st.caption("No views of the reaction bar recorded in this range: no rates to compare.")
    st.subheader("Volume and trend")
    st.dataframe(table, hide_index=True, column_config=_columns(ctx.filters.interval))
    table_button(
        "This table (CSV)",
        lambda: table.drop(columns=["trend", "change"]).merge(
            previous.rename("previous_reactions"), left_on="topic", right_index=True, how="left"
        ),
        file_name("topics-volume", ctx.filters, "csv"),
        key="download_topics",
    )


def topic_shares(wide: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """What the heatmap shows: per topic, reactions, and each kind's count and share."""
    out = wide.rename(columns={"total": "reactions"}).copy()
    for kind in shares.columns:
        out[f"{kind}_share"] = shares[kind].round(6)
    return out.reset_index()


def topic_table(
    wide: pd.DataFrame,
    trend: pd.DataFrame,
    previous: pd.Series,
    views: pd.Series,
    style: charts.KindStyle,
    grid: pd.DatetimeIndex,
) -> pd.DataFrame:
    """One row per topic; its trend over every bucket of `grid` (an empty one is zero)."""
    kinds = list(style.order)
    seen = views.reindex(wide.index, fill_value=0).to_numpy()
    reactions = wide["total"].to_numpy()
    rate, low, high = rate_interval(reactions, seen)
    series = (
        trend.pivot_table(index="topic", columns="bucket", values="reactions", aggfunc="sum")
        .reindex(columns=grid)
        .fillna(0)
    )
    top_kind = [
        style.names[str(k)] if total else "–"
        for k, total in zip(wide[kinds].idxmax(axis=1), wide["total"], strict=True)
    ]
    return pd.DataFrame(
        {
            "topic": wide.index,
            "reactions": reactions,
            "views": seen,
            "rate": rate,
            "rate_low": low,
            "rate_high": high,
            "change": [
                delta(float(t), float(previous.get(topic, 0)) or None)
                for topic, t in zip(wide.index, wide["total"], strict=True)
            ],
            "most common": top_kind,
            "trend": [
                series.loc[t].tolist() if t in series.index else [0.0] * len(grid)
                for t in wide.index
            ],
        }
    )


def _columns(interval: str) -> dict[str, Any]:
    return {
        "topic": "Topic",
        "reactions": st.column_config.NumberColumn("Reactions", format="localized"),
        "views": st.column_config.NumberColumn("Views", format="localized"),
        "rate": st.column_config.NumberColumn(
            "Per 100 views", format="%.2f", help="Reactions per 100 views of the bar"
        ),
        "rate_low": None,
        "rate_high": None,
        "change": st.column_config.TextColumn("vs previous period"),
        "most common": "Most common reaction",
        "trend": st.column_config.LineChartColumn(f"Reactions per {interval}", y_min=0),
    }
