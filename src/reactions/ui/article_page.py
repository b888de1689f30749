"""Article detail: the article as readers saw it, its breakdown with intervals, its curve since
publication, what readers switched between, and how it differs from its topic's norm."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from reactions.exports.writer import file_name
from reactions.metrics import time_series
from reactions.metrics.stats import FEW_REACTIONS, lift, rate_interval, wilson_interval
from reactions.ui import charts, data
from reactions.ui.context import PageContext, page_context
from reactions.ui.downloads import table_button
from reactions.ui.format import local, rate_text
from reactions.ui.kpis import Kpi, kpi_row


def render() -> None:
    ctx = page_context(extra_params=("id",))
    article_id = st.query_params.get("id")
    info = data.article(ctx.db, article_id) if article_id else None
    if info is None:
        st.title("Article")
        if article_id:
            st.error(
                f"No article with id {article_id[:80]!r}. Pick one from the Overview's top table."
            )
        else:
            st.info("Select an article in the Overview's top table to see its detail here.")
        return
    header(info, ctx.filters.tz)
    live_detail(ctx, info)


@st.fragment(run_every=data.REFRESH_SECONDS)
def live_detail(ctx: PageContext, info: dict[str, Any]) -> None:
    ctx = replace(ctx, filters=data.effective(ctx.db, ctx.filters))
    breakdown = data.article_figure(ctx.db, "breakdown", ctx.filters, info["article_id"])
    counts = breakdown.set_index("kind_id")["reactions"].reindex(
        list(ctx.style.order), fill_value=0
    )
    total = int(counts.sum())
    st.caption(
        f"Standing reactions added {ctx.filters.describe_range()}"
        + (f", kinds: {', '.join(ctx.filters.kinds)}" if ctx.filters.kinds else "")
    )
    engagement(ctx, info["article_id"], total)
    if total == 0:
        st.info("No reactions to this article in this range.")
        return
    low, high = wilson_interval(counts.to_numpy(), total)
    left, right = st.columns([3, 2])
    left.plotly_chart(
        charts.breakdown(
            counts, pd.Series(low, counts.index), pd.Series(high, counts.index), ctx.style
        ),
        width="stretch",
    )
    table = breakdown_table(counts, low, high, ctx)
    right.dataframe(
        table,
        hide_index=True,
        column_config={"share": st.column_config.NumberColumn("Share", format="%.1f%%")},
    )
    with right:
        table_button(
            "This breakdown (CSV)",
            lambda: table,
            file_name(f"article-{info['article_id']}", ctx.filters, "csv"),
            key="download_breakdown",
        )
    if total < FEW_REACTIONS:
        right.warning(f"Few reactions ({total}): the shares are uncertain; see the intervals.")
    topic_norm(ctx, info, counts)
    timeline = data.article_figure(ctx.db, "timeline", ctx.filters, info["article_id"])
    st.plotly_chart(charts.since_publication(timeline, ctx.style), width="stretch")
    table_button(
        "This chart's data (CSV)",
        lambda: timeline,
        file_name(f"article-{info['article_id']}-since-publication", ctx.filters, "csv"),
        key="download_timeline",
    )
    rate_chart(ctx, info["article_id"], timeline)
    transitions(ctx, info["article_id"])


def engagement(ctx: PageContext, article_id: str, total: int) -> None:
    """Reactions, views of the bar and the rate, in the same range."""
    views: int = data.article_figure(ctx.db, "views", ctx.filters, article_id)
    rate, low, high = (float(x[0]) for x in rate_interval([total], [views]))
    kpi_row(
        [
            Kpi("Reactions", f"{total:,}"),
            Kpi("Views", f"{views:,}", help="Times the reaction bar was shown to a reader."),
            Kpi(
                "Reactions per 100 views",
                rate_text(rate if views else None),
                help=f"95 % interval {low:.2f}–{high:.2f}" if views else None,
            ),
        ]
    )


def rate_chart(ctx: PageContext, article_id: str, timeline: pd.DataFrame) -> None:
    views = data.article_figure(ctx.db, "view_timeline", ctx.filters, article_id)
    if views.empty:
        st.caption("No views of the reaction bar recorded in this range: no rate to show.")
        return
    per_hour = time_series.rate_by_hour(timeline, views)
    st.plotly_chart(charts.rate_since_publication(per_hour), width="stretch")
    table_button(
        "This chart's data (CSV)",
        lambda: per_hour,
        file_name(f"article-{article_id}-rate-since-publication", ctx.filters, "csv"),
        key="download_rate",
    )


def header(info: dict[str, Any], tz: str) -> None:
    st.title(info["title"])
    if info["dek"]:
        st.markdown(f"*{info['dek']}*")
    published = local(info["published_at"], tz)
    updated = local(info["updated_at"], tz)
    parts = [f"Published {published:%b %d, %Y %H:%M}" if published is not None else ""]
    if updated is not None:
        parts.append(f"updated {updated:%b %d, %Y %H:%M}")
    parts.append(f"({tz})")
    meta = [info["topic"], info["author"], info["dateline"], ", ".join(info["tags"])]
    st.caption(" ".join(p for p in parts if p) + " · " + " · ".join(m for m in meta if m))


def breakdown_table(counts: pd.Series, low: Any, high: Any, ctx: PageContext) -> pd.DataFrame:
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "reaction": [ctx.style.names[k] for k in counts.index],
            "count": counts.to_numpy(),
            "share": counts.to_numpy() / total * 100,
            "95 % interval": [
                f"{lo * 100:.1f}–{hi * 100:.1f}%" for lo, hi in zip(low, high, strict=True)
            ],
        }
    )


def topic_norm(ctx: PageContext, info: dict[str, Any], counts: pd.Series) -> None:
    """Each kind's share against the same topic's share in the same range."""
    # The norm: the article's topic under the same range and kinds (other filters name
    # articles, and the norm is about the whole topic).
    same_topic = replace(ctx.filters.range_and_kinds(), topics=(info["topic"],))
    topic_counts = data.topic_counts(ctx.db, same_topic)
    norm = topic_counts.set_index("kind_id")["reactions"]
    norm_total = float(norm.sum())
    total = float(counts.sum())
    if not norm_total:
        return
    low, high = wilson_interval(counts.to_numpy(), total)
    lines = []
    for i, kind in enumerate(counts.index):
        norm_share = float(norm.get(kind, 0)) / norm_total
        ratio = lift(counts[kind] / total, norm_share)
        if ratio is None:
            continue
        if low[i] > norm_share or high[i] < norm_share:  # outside the interval: a real difference
            lines.append(
                f"**{ctx.style.names[kind]}** {ratio:.1f}× the {info['topic']} norm "
                f"({counts[kind] / total:.1%} vs {norm_share:.1%})"
            )
    st.markdown("#### Against the topic norm")
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    else:
        st.caption(f"No kind differs from the {info['topic']} norm beyond its 95 % interval.")


def transitions(ctx: PageContext, article_id: str) -> None:
    moves = data.article_figure(ctx.db, "transitions", ctx.filters, article_id)
    st.markdown("#### Switches and undos")
    if moves.empty:
        st.caption("No reader switched or undid a reaction here in this range.")
        return
    names = ctx.style.names
    table = pd.DataFrame(
        {
            "left": [names.get(k, k) for k in moves["from_kind"]],
            "for": [
                names.get(k, k) if isinstance(k, str) else "nothing (undo)"
                for k in moves["to_kind"]
            ],
            "readers": moves["readers"],
        }
    )
    st.dataframe(table, hide_index=True)
    table_button(
        "These switches (CSV)",
        lambda: moves,
        file_name(f"article-{article_id}-switches", ctx.filters, "csv"),
        key="download_switches",
    )
