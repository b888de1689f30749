"""Overview: KPIs against the previous period, the reaction mix over time, top articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from reactions.config import Settings
from reactions.metrics import time_series
from reactions.metrics.alerts import AlertRule
from reactions.metrics.buckets import bucket_grid
from reactions.metrics.stats import (
    FEW_REACTIONS,
    FEW_VIEWS,
    conservative_rate,
    conservative_share,
    rate_interval,
    wilson_interval,
)
from reactions.ui import charts, data
from reactions.ui.context import PageContext, page_context, page_header
from reactions.ui.downloads import dataset_button
from reactions.ui.format import delta, local_column, rate_text, sentiment

TOTAL = "total"
RATE = "rate"


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
    for col, tile in zip([*st.columns(4), *st.columns(3)], KPI_TILES, strict=True):
        current = getattr(now, tile.field)
        earlier = getattr(before, tile.field) if before else None
        col.metric(
            tile.label,
            tile.text(current),
            delta(current, earlier, points=tile.field == "net_sentiment"),
            help=tile.help,
        )
    if before is not None:
        st.caption(f"Changes compare with {f.previous().describe_range()}.")  # type: ignore[union-attr]
    if now.reactions == 0 and now.views == 0:
        st.info("No reactions or views in this range. Widen the dates or clear a filter.")
        return
    _mood_alerts(ctx)
    _mix_chart(ctx)
    _top_table(ctx)


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


def _sort_options(ctx: PageContext) -> dict[str, str]:
    options = {TOTAL: "Total reactions", RATE: "Reactions per 100 views (conservative)"}
    for kind in ctx.style.order:
        options[f"{kind}:count"] = f"{ctx.style.names[kind]} — count"
        options[f"{kind}:share"] = f"{ctx.style.names[kind]} — share (conservative)"
    return options


def _top_table(ctx: PageContext) -> None:
    st.subheader("Top articles")
    options = _sort_options(ctx)
    wanted = st.query_params.get("sort", TOTAL)
    sort = st.selectbox(
        "Rank by",
        list(options),
        format_func=lambda o: options[o],
        index=list(options).index(wanted) if wanted in options else 0,
        key="top_sort",
        help="Shares and rates rank by the low end of their 95 % interval, so an article "
        "with 3 reactions cannot top one with 3,000, nor 2 reactions from 3 views one with "
        "300 from 6,000.",
    )
    if sort != TOTAL:
        st.query_params["sort"] = sort
    elif "sort" in st.query_params:
        del st.query_params["sort"]
    table = ranked_articles(data.top(ctx.db, ctx.filters, ctx.style.order), ctx, sort)
    if table.empty:
        st.info("No articles published, viewed or reacted to in this range.")
        return
    shown = with_previous(table.head(50), ctx, sort)
    columns: dict[str, Any] = {
        "title": st.column_config.TextColumn("Article", width="large"),
        "topic": "Topic",
        "author": "Author",
        "published": st.column_config.DatetimeColumn(
            f"Published ({ctx.filters.tz})", format="YYYY-MM-DD HH:mm"
        ),
        TOTAL: st.column_config.NumberColumn("Reactions", format="localized"),
        "views": st.column_config.NumberColumn("Views", format="localized"),
        RATE: st.column_config.NumberColumn(
            "Per 100 views", format="%.2f", help="Reactions per 100 views of the bar"
        ),
        "mix": st.column_config.BarChartColumn(
            "Mix", y_min=0, y_max=1, help="Share of each kind, in legend order"
        ),
    }
    if sort == RATE:
        columns["interval"] = st.column_config.TextColumn("95 % interval (per 100 views)")
    elif sort != TOTAL:
        kind = sort.split(":")[0]
        columns["share"] = st.column_config.NumberColumn(
            f"{ctx.style.names[kind]} share", format="%.1f%%"
        )
        columns["interval"] = st.column_config.TextColumn("95 % interval")
    for kind in ctx.style.order:
        columns[kind] = st.column_config.NumberColumn(ctx.style.names[kind], format="localized")
    previous = ctx.filters.previous()
    if "previous" in shown and previous is not None:
        columns["previous"] = st.column_config.NumberColumn(
            "Previous period",
            format="localized",
            help=f"The same count in {previous.describe_range()}",
        )
        columns["change"] = st.column_config.TextColumn("Change")
    columns["few"] = st.column_config.CheckboxColumn(
        "Few reactions", help=f"Fewer than {FEW_REACTIONS}: shares are uncertain"
    )
    if sort == RATE:
        columns["few_views"] = st.column_config.CheckboxColumn(
            "Few views",
            help=f"Fewer than {FEW_VIEWS}: the rate is uncertain, so it ranks after the rest",
        )
    event = st.dataframe(
        shown[list(columns)],
        column_config=columns,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="top_table",
    )
    reacted = int((table[TOTAL] > 0).sum())
    st.caption(
        f"{len(table):,} articles published, viewed or reacted to in the range "
        f"({reacted:,} with reactions); top 50 shown. Select a row to open it."
    )
    dataset_button(
        f"All {len(table):,} articles (CSV)", "articles", ctx.filters, key="download_articles"
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        from reactions.ui import pages

        st.switch_page(
            pages.ARTICLE,
            query_params={**ctx.filters.to_query(), "id": str(shown.iloc[rows[0]]["article_id"])},
        )


def with_previous(shown: pd.DataFrame, ctx: PageContext, sort: str) -> pd.DataFrame:
    """Beside each article, the ranked count (total, or the sorted kind) in the previous
    period of equal length, and the change: "which stories drew the most anger this week
    compared to last"."""
    previous = ctx.filters.previous()
    if previous is None or shown.empty:
        return shown
    column = TOTAL if sort in (TOTAL, RATE) else sort.split(":")[0]
    earlier = data.article_counts(ctx.db, previous, ctx.style.order)[column]
    out = shown.copy()
    out["previous"] = out["article_id"].map(earlier).fillna(0).astype("int64")
    out["change"] = [
        delta(float(now), float(then)) or ("new" if now else "")
        for now, then in zip(out[column], out["previous"], strict=True)
    ]
    return out


def ranked_articles(table: pd.DataFrame, ctx: PageContext, sort: str) -> pd.DataFrame:
    """The top table in display order, with its derived columns (local time, mix, shares)."""
    if table.empty:
        return table
    kinds = list(ctx.style.order)
    out = table.copy()
    out["published"] = local_column(out["published_at"], ctx.filters.tz)
    totals = out[TOTAL].to_numpy()
    out["mix"] = list(np.divide(out[kinds].to_numpy(), np.maximum(totals, 1)[:, None]))
    out["few"] = totals < FEW_REACTIONS
    views = out["views"].to_numpy()
    out[RATE], rate_low, rate_high = rate_interval(totals, views)
    if sort == TOTAL:
        return out.sort_values([TOTAL, "article_id"], ascending=[False, True])
    if sort == RATE:
        out["few_views"] = views < FEW_VIEWS
        out["interval"] = [
            f"{lo:.2f}–{hi:.2f}" if n else "no views"
            for lo, hi, n in zip(rate_low, rate_high, views, strict=True)
        ]
        out["rank_key"] = conservative_rate(totals, views)
        return out.sort_values(["rank_key", TOTAL, "article_id"], ascending=[False, False, True])
    kind, how = sort.split(":")
    low, high = wilson_interval(out[kind], totals)
    out["share"] = out[kind] / np.maximum(totals, 1) * 100
    out["interval"] = [f"{lo * 100:.1f}–{hi * 100:.1f}%" for lo, hi in zip(low, high, strict=True)]
    out["rank_key"] = out[kind] if how == "count" else conservative_share(out[kind], totals)
    return out.sort_values(["rank_key", TOTAL, "article_id"], ascending=[False, False, True])
