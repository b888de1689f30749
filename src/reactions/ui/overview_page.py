"""Overview: KPIs against the previous period, the reaction mix over time, top articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from reactions.config import Settings
from reactions.metrics import time_series
from reactions.metrics.alerts import AlertRule
from reactions.metrics.buckets import bucket_grid
from reactions.ui import charts, data
from reactions.ui.context import PageContext, page_context, page_header
from reactions.ui.downloads import dataset_button
from reactions.ui.format import delta, rate_text, sentiment
from reactions.ui.kpis import Kpi, kpi_row
from reactions.ui.top_articles import top_table


@dataclass(frozen=True)
class Tile:
    label: str
    field: str  # of overview.Kpis
    help: str | None = None

    def text(self, value: Any) -> str:
        if self.field == "net_sentiment":
            return sentiment(value)
        if self.field == "rate":
            return rate_text(value)
        return f"{value:,}"


KPI_TILES = (
    Tile("Reactions", "reactions"),
    Tile("Reacting readers", "readers"),
    Tile(
        "Articles reacted to",
        "articles",
        "Articles with at least one standing reaction added in the range.",
    ),
    Tile(
        "Articles viewed",
        "articles_viewed",
        "Articles whose reaction bar was shown in the range, reacted to or not.",
    ),
    Tile(
        "Net sentiment",
        "net_sentiment",
        "Mean sentiment of the reactions: +1 all positive kinds, −1 all negative.",
    ),
    Tile(
        "Views",
        "views",
        "Times the reaction bar was shown to a reader (once per reader, article and day).",
    ),
    Tile(
        "Reactions per 100 views",
        "rate",
        "The reaction rate: reactions in this view per 100 views of the bar on the same "
        "articles in the same range. It tells strong feeling from big traffic.",
    ),
)


def render() -> None:
    ctx = page_context(extra_params=("share", "sort"))
    page_header("Overview", ctx)
    live(ctx)


@st.fragment(run_every=data.REFRESH_SECONDS)
def live(ctx: PageContext) -> None:
    f = ctx.filters
    now, before = data.kpis(ctx.db, f)
    figures = []
    for tile in KPI_TILES:
        current = getattr(now, tile.field)
        earlier = getattr(before, tile.field) if before else None
        change = delta(current, earlier, points=tile.field == "net_sentiment")
        figures.append(Kpi(tile.label, tile.text(current), change, tile.help))
    kpi_row(figures)
    if before is not None:
        st.caption(f"Changes compare with {f.previous().describe_range()}.")  # type: ignore[union-attr]
    if now.reactions == 0 and now.views == 0:
        st.info("No reactions or views in this range. Widen the dates or clear a filter.")
        return
    _mood_alerts(ctx)
    _mix_chart(ctx)
    top_table(ctx)


def _mood_alerts(ctx: PageContext) -> None:
    """Articles whose mood just shifted (alerts.py); configured in secrets.toml."""
    from reactions.ui import pages

    rule = AlertRule.from_settings(Settings.load())
    alerts = data.alerts(ctx.db, rule)
    name = ctx.style.names.get(rule.kind, rule.kind)
    hours = int(rule.window.total_seconds() // 3600)
    if alerts.empty:
        st.caption(f"No mood alerts: no article's {name} share jumped in the last {hours} h.")
        return
    st.subheader("Mood alerts")
    for row in alerts.to_dict("records"):
        st.warning(
            f"{name} is {row['recent_share']:.0%} of **{row['title']}**'s last {hours} h "
            f"({row['recent']:,} reactions), against {row['before_share']:.0%} before.",
            icon="📣",
        )
        st.page_link(
            pages.ARTICLE,
            label="Open the article",
            query_params={**ctx.filters.to_query(), "id": str(row["article_id"])},
        )


def _mix_chart(ctx: PageContext) -> None:
    share = st.toggle(
        "Show as 100 % shares", key="share_toggle", value=st.query_params.get("share") == "1"
    )
    if share:
        st.query_params["share"] = "1"
    elif "share" in st.query_params:
        del st.query_params["share"]
    f = ctx.filters
    long = data.mix(ctx.db, f)
    views = data.views_over_time(ctx.db, f)
    grid = bucket_grid(f, [long["bucket"], views["bucket"]])
    st.plotly_chart(
        charts.mix_over_time(long, ctx.style, share=share, interval=f.interval, tz=f.tz, grid=grid),
        width="stretch",
    )
    if f.start is None and len(grid):
        st.caption(
            f"All time starts at {grid[0]:%b %d, %Y}, the first {f.interval} with reactions "
            "or views; every empty " + f"{f.interval} after it counts as zero."
        )
    dataset_button("This chart's data (CSV)", "timeseries", f, key="download_mix")
    if views.empty:
        st.caption("No views of the reaction bar recorded in this range: no rate to show.")
        return
    per_bucket = time_series.rate_over_time(long, views, grid)
    st.plotly_chart(
        charts.rate_over_time(per_bucket, interval=f.interval, tz=f.tz),
        width="stretch",
    )
