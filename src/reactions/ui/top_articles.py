"""The Overview's top articles: every article in scope, ranked by a count, a conservative
share or the conservative reaction rate, beside the previous period."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from reactions.metrics.stats import (
    FEW_REACTIONS,
    FEW_VIEWS,
    conservative_rate,
    conservative_share,
    rate_interval,
    wilson_interval,
)
from reactions.ui import data
from reactions.ui.context import PageContext
from reactions.ui.downloads import dataset_button
from reactions.ui.format import delta, local_column

TOTAL = "total"
RATE = "rate"


def _sort_options(ctx: PageContext) -> dict[str, str]:
    options = {TOTAL: "Total reactions", RATE: "Reactions per 100 views (conservative)"}
    for kind in ctx.style.order:
        options[f"{kind}:count"] = f"{ctx.style.names[kind]} — count"
        options[f"{kind}:share"] = f"{ctx.style.names[kind]} — share (conservative)"
    return options


def top_table(ctx: PageContext) -> None:
    """Every article in scope, ranked as the editor chooses; selecting a row opens it."""
    st.subheader("Top articles")
    sort = _rank_choice(ctx)
    table = ranked_articles(data.top(ctx.db, ctx.filters, ctx.style.order), ctx, sort)
    if table.empty:
        st.info("No articles published, viewed or reacted to in this range.")
        return
    shown = with_previous(table.head(50), ctx, sort)
    columns = _column_config(ctx, sort, shown)
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


def _rank_choice(ctx: PageContext) -> str:
    """What the table ranks by, kept in the link (`sort=`) unless it is the default."""
    options = _sort_options(ctx)
    wanted = st.query_params.get("sort", TOTAL)
    sort = str(
        st.selectbox(
            "Rank by",
            list(options),
            format_func=lambda o: options[o],
            index=list(options).index(wanted) if wanted in options else 0,
            key="top_sort",
            help="Shares and rates rank by the low end of their 95 % interval, so an article "
            "with 3 reactions cannot top one with 3,000, nor 2 reactions from 3 views one with "
            "300 from 6,000.",
        )
    )
    if sort != TOTAL:
        st.query_params["sort"] = sort
    elif "sort" in st.query_params:
        del st.query_params["sort"]
    return sort


def _column_config(ctx: PageContext, sort: str, shown: pd.DataFrame) -> dict[str, Any]:
    """The table's columns in order, with what each means: the ranked share or rate and its
    interval beside the counts, the previous period when there is one."""
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
    return columns


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
