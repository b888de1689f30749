"""Plotly figure builders: DataFrame in, Figure out. No Streamlit.

Every chart that shows kinds takes a `KindStyle`, built once from the `reaction_kinds` table,
so a kind has the same colour, name and order on every page.

Traces and layout are plain dicts, validated once when the figure is made (`_figure`):
building `go.Scatter` objects and calling `update_layout` afterwards validates every property
again and was most of a page's render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reactions.metrics.buckets import zero_filled

# No emoji font in the list: Noto Color Emoji has digit glyphs and would space numbers out;
# the browser falls back to it for emoji on its own.
FONT = {"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 13}
# plotly_white's look in the few properties these charts use. The stock template carries
# defaults for every trace type, and validating and serializing them was the larger part of a
# page's render (the article page draws four).
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8"}
TEMPLATE = go.layout.Template(
    layout={
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {**_AXIS, "automargin": True},
        "yaxis": {**_AXIS, "automargin": True},
        "hoverlabel": {"align": "left"},
    }
)


@dataclass(frozen=True)
class KindStyle:
    order: tuple[str, ...]  # kind ids in display order
    names: dict[str, str]  # "😡 Angry"
    colors: dict[str, str]  # "#dc2626"

    @classmethod
    def from_kinds(cls, kinds: pd.DataFrame) -> KindStyle:
        ids = [str(k) for k in kinds["kind_id"]]
        names = {
            str(k): f"{e} {lbl}"
            for k, e, lbl in zip(kinds["kind_id"], kinds["emoji"], kinds["label"], strict=True)
        }
        colors = {str(k): str(c) for k, c in zip(kinds["kind_id"], kinds["color"], strict=True)}
        return cls(tuple(ids), names, colors)

    def present(self, kinds: set[str]) -> list[str]:
        return [k for k in self.order if k in kinds]


Trace = dict[str, Any]


def _figure(
    traces: list[Trace], title: str, x_title: str, y_title: str, **layout: Any
) -> go.Figure:
    """The figure, validated once, with the look every chart shares; `layout` adds to it."""
    return go.Figure(
        data=traces,
        layout={
            "title": {"text": title, "x": 0, "xanchor": "left"},
            "font": FONT,
            "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}},
            "legend": {
                "orientation": "h",
                "y": -0.2,
                "title": {"text": ""},
                "traceorder": "normal",
            },
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "hovermode": "x unified",
            "template": TEMPLATE,
            **layout,
        },
    )


def _per_kind(
    long: pd.DataFrame, style: KindStyle, grid: pd.DatetimeIndex | None = None
) -> list[tuple[str, pd.Series]]:
    """(kind, reactions per bucket) for each kind present, in display order. `long` has one
    row per bucket and kind (a GROUP BY's output), so a plain unstack is enough; over `grid`
    (every bucket of the range) when given, zero where nothing happened."""
    if grid is not None:
        wide = zero_filled(long, grid, "reactions")
    else:
        wide = long.set_index(["bucket", "kind_id"])["reactions"].unstack(fill_value=0)
    return [(kind, wide[kind]) for kind in style.present(set(wide.columns))]


def mix_over_time(
    long: pd.DataFrame,
    style: KindStyle,
    *,
    share: bool,
    interval: str,
    tz: str,
    grid: pd.DatetimeIndex,
) -> go.Figure:
    """Stacked area of reactions per kind over every bucket of `grid` (an empty bucket is a
    zero, not a line drawn across it); `share` stacks to 100 %."""
    traces = [
        {
            "type": "scatter",
            "x": counts.index,
            "y": counts.to_numpy(),
            "name": style.names[kind],
            "mode": "lines",
            "stackgroup": "mix",
            "groupnorm": "percent" if share else "",
            "line": {"width": 0.5, "color": style.colors[kind]},
            "fillcolor": style.colors[kind],
            "hovertemplate": "%{y:,.1f}%" if share else "%{y:,}",
        }
        for kind, counts in _per_kind(long, style, grid)
    ]
    y_title = "Share of reactions (%)" if share else "Reactions"
    title = "Reaction mix over time" + (" (100 % stacked)" if share else "")
    return _figure(traces, title, f"{interval.capitalize()} ({tz})", y_title)


def _interval_bars(
    labels: list[str], values: np.ndarray, low: np.ndarray, high: np.ndarray, **bar: Any
) -> Trace:
    """Horizontal bars with asymmetric 95 % interval whiskers (values in display units)."""
    return {
        "type": "bar",
        "y": labels,
        "x": values,
        "orientation": "h",
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": high - values,
            "arrayminus": values - low,
            "color": "#334155",
            "thickness": 1,
        },
        **bar,
    }


def breakdown(counts: pd.Series, low: pd.Series, high: pd.Series, style: KindStyle) -> go.Figure:
    """Horizontal bars of each kind's true share, with its 95 % interval."""
    kinds = style.present(set(counts.index))
    total = float(counts.sum())
    shares = np.array([counts[k] / total * 100 if total else 0.0 for k in kinds])
    bars = _interval_bars(
        [style.names[k] for k in kinds],
        shares,
        np.array([low[k] * 100 for k in kinds]),
        np.array([high[k] * 100 for k in kinds]),
        marker={"color": [style.colors[k] for k in kinds]},
        customdata=[int(counts[k]) for k in kinds],
        hovertemplate="%{y}: %{x:.1f}% (%{customdata:,} reactions)<extra></extra>",
    )
    return _figure(
        [bars],
        "Breakdown (share of reactions, 95 % interval)",
        "Share of reactions (%)",
        "",
        yaxis={"autorange": "reversed"},
        hovermode="closest",
        showlegend=False,
    )


def since_publication(long: pd.DataFrame, style: KindStyle) -> go.Figure:
    """Cumulative standing reactions per kind by hours since publication."""
    traces: list[Trace] = []
    if not long.empty:
        wide = long.set_index(["hours_since_publish", "kind_id"])["reactions"].unstack(fill_value=0)
        wide = wide.reindex(range(int(wide.index.min()), int(wide.index.max()) + 1), fill_value=0)
        cumulative = wide.cumsum()
        traces = [
            {
                "type": "scatter",
                "x": cumulative.index,
                "y": cumulative[kind].to_numpy(),
                "name": style.names[kind],
                "mode": "lines",
                "line": {"color": style.colors[kind], "width": 2},
                "hovertemplate": "%{y:,}",
            }
            for kind in style.present(set(cumulative.columns))
        ]
    return _figure(
        traces, "Reactions since publication (cumulative)", "Hours since publication", "Reactions"
    )


# The reaction rate covers every kind, so it takes no kind's colour.
RATE_COLOR = "#0f172a"


def rate_since_publication(per_hour: pd.DataFrame) -> go.Figure:
    """Reactions per 100 views by hours since publication: each hour's rate (dots) and the
    rate so far (line). `per_hour` as `time_series.rate_by_hour` makes it."""
    traces: list[Trace] = []
    if not per_hour.empty:
        hours = per_hour["hours_since_publish"].to_numpy()
        traces = [
            {
                "type": "scatter",
                "x": hours,
                "y": per_hour["reactions_per_100_views"].to_numpy(),
                "name": "That hour",
                "mode": "markers",
                "marker": {"color": RATE_COLOR, "size": 5, "opacity": 0.45},
                "customdata": per_hour[["reactions", "views"]].to_numpy(),
                "hovertemplate": "%{y:.2f} (%{customdata[0]:,} of %{customdata[1]:,} views)",
            },
            {
                "type": "scatter",
                "x": hours,
                "y": per_hour["since_publication"].to_numpy(),
                "name": "Since publication",
                "mode": "lines",
                "line": {"color": RATE_COLOR, "width": 2},
                "hovertemplate": "%{y:.2f}",
            },
        ]
    return _figure(
        traces,
        "Reaction rate since publication",
        "Hours since publication",
        "Reactions per 100 views",
    )


def rate_over_time(per_bucket: pd.DataFrame, *, interval: str, tz: str) -> go.Figure:
    """Reactions per 100 views per bucket, as `time_series.rate_over_time` makes it."""
    trace = {
        "type": "scatter",
        "x": per_bucket["bucket"],
        "y": per_bucket["reactions_per_100_views"].to_numpy(),
        "name": "Reactions per 100 views",
        "mode": "lines+markers",
        "line": {"color": RATE_COLOR, "width": 2},
        "marker": {"color": RATE_COLOR, "size": 4},
        "customdata": per_bucket[["reactions", "views"]].to_numpy(),
        "hovertemplate": "%{y:.2f} (%{customdata[0]:,} reactions, %{customdata[1]:,} views)",
    }
    return _figure(
        [trace],
        "Reaction rate over time",
        f"{interval.capitalize()} ({tz})",
        "Reactions per 100 views",
        height=280,
        showlegend=False,
    )


def topic_rates(table: pd.DataFrame) -> go.Figure:
    """Reactions per 100 views per topic with 95 % intervals. `table`: topic, reactions,
    views, rate, rate_low, rate_high (per 100 views), in display order."""
    rated = table[table["views"] > 0]
    bars = _interval_bars(
        rated["topic"].tolist(),
        rated["rate"].to_numpy(),
        rated["rate_low"].to_numpy(),
        rated["rate_high"].to_numpy(),
        marker={"color": RATE_COLOR},
        customdata=rated[["reactions", "views"]].to_numpy(),
        hovertemplate="%{y}: %{x:.2f} per 100 views "
        "(%{customdata[0]:,} reactions, %{customdata[1]:,} views)<extra></extra>",
    )
    return _figure(
        [bars],
        "Reaction rate by topic (95 % interval)",
        "Reactions per 100 views",
        "",
        yaxis={"autorange": "reversed"},
        hovermode="closest",
        showlegend=False,
    )


def topic_heatmap(shares: pd.DataFrame, counts: pd.DataFrame, style: KindStyle) -> go.Figure:
    """Topics × kinds, each cell the kind's share of the topic's reactions."""
    kinds = style.present(set(shares.columns))
    z = shares[kinds].to_numpy() * 100
    heatmap = {
        "type": "heatmap",
        "z": z,
        "x": [style.names[k] for k in kinds],
        "y": list(shares.index),
        "text": [[f"{v:.1f}%" for v in row] for row in z],
        "texttemplate": "%{text}",
        "customdata": counts[kinds].to_numpy(),
        "colorscale": "Blues",
        "zmin": 0,
        "colorbar": {"title": {"text": "Share (%)"}},
        "hovertemplate": "%{y} · %{x}: %{z:.1f}% (%{customdata:,} reactions)<extra></extra>",
    }
    return _figure(
        [heatmap],
        "How each topic's readers react (share of the topic's reactions)",
        "Reaction",
        "Topic",
        yaxis={"autorange": "reversed"},
        hovermode="closest",
    )


def burst_timeline(
    long: pd.DataFrame, style: KindStyle, start: pd.Timestamp, end: pd.Timestamp, tz: str
) -> go.Figure:
    """An article's reactions per 5 minutes around a flagged burst (shaded), per kind."""
    traces = [
        {
            "type": "bar",
            "x": counts.index,
            "y": counts.to_numpy(),
            "name": style.names[kind],
            "marker": {"color": style.colors[kind]},
            "hovertemplate": "%{y:,}",
        }
        for kind, counts in _per_kind(long, style)
    ]
    fig = _figure(
        traces,
        "Reactions around the flagged burst",
        f"Time ({tz}), 5-minute bins",
        "Reactions",
        barmode="stack",
    )
    fig.add_vrect(
        x0=start,
        x1=end,
        fillcolor="#fde68a",
        opacity=0.45,
        line_width=0,
        annotation_text="flagged",
        annotation_position="top left",
    )
    return fig
