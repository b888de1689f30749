"""Chart builders on their figure data: titles, axis labels, and one colour per kind used
the same way on every chart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from reactions.metrics.queries import reaction_kinds
from reactions.store.connection import connect
from reactions.ui import charts


def style(tmp_path: Path) -> charts.KindStyle:
    with connect(tmp_path / "k.duckdb") as con:
        return charts.KindStyle.from_kinds(reaction_kinds(con.cursor(), enabled_only=False))


def colours_by_name(fig: go.Figure) -> dict[str, str]:
    out = {}
    for trace in fig.data:
        if trace.type == "scatter":
            out[trace.name] = trace.line.color
        elif trace.type == "bar":
            out.update(zip(trace.y, trace.marker.color, strict=True))
    return out


def test_every_kind_has_its_own_colour_and_emoji_name(tmp_path: Path) -> None:
    s = style(tmp_path)
    assert s.order == ("like", "dislike", "love", "funny", "angry", "sad", "wow")
    assert len(set(s.colors.values())) == 7
    assert s.names["angry"] == "😡 Angry"


def test_same_kind_same_colour_on_every_chart(tmp_path: Path) -> None:
    s = style(tmp_path)
    mix = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-01"] * 3),
            "kind_id": ["angry", "like", "sad"],
            "reactions": [5, 3, 2],
        }
    )
    counts = pd.Series({"like": 3, "angry": 5, "sad": 2})
    timeline = pd.DataFrame(
        {
            "hours_since_publish": [0, 1, 1],
            "kind_id": ["angry", "like", "sad"],
            "reactions": [5, 3, 2],
        }
    )
    figures = [
        charts.mix_over_time(
            mix, s, share=False, interval="day", tz="UTC", grid=pd.DatetimeIndex(mix["bucket"])
        ),
        charts.breakdown(counts, counts * 0, counts * 0 + 1, s),
        charts.since_publication(timeline, s),
    ]
    for fig in figures:
        for name, colour in colours_by_name(fig).items():
            kind = next(k for k, n in s.names.items() if n == name)
            assert colour == s.colors[kind], (fig.layout.title.text, name)


def test_mix_chart_titles_axes_and_legend_order(tmp_path: Path) -> None:
    s = style(tmp_path)
    mix = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-11-03"]),
            "kind_id": ["sad", "like", "like"],
            "reactions": [2, 3, 4],
        }
    )
    grid = pd.date_range("2026-11-01", "2026-11-04", freq="D")
    fig = charts.mix_over_time(mix, s, share=False, interval="day", tz="Asia/Kolkata", grid=grid)
    assert fig.layout.title.text == "Reaction mix over time"
    assert fig.layout.xaxis.title.text == "Day (Asia/Kolkata)"
    assert fig.layout.yaxis.title.text == "Reactions"
    assert [t.name for t in fig.data] == ["👍 Like", "😢 Sad"]  # kinds in configured order
    # every day of the range is drawn: an empty one is zero, not a line across it
    assert list(fig.data[0].x) == list(grid)
    assert list(fig.data[0].y) == [3, 0, 4, 0] and list(fig.data[1].y) == [2, 0, 0, 0]
    shares = charts.mix_over_time(mix, s, share=True, interval="day", tz="UTC", grid=grid)
    assert shares.layout.yaxis.title.text == "Share of reactions (%)"
    assert {t.groupnorm for t in shares.data} == {"percent"}


def test_breakdown_shows_true_percentages_with_intervals(tmp_path: Path) -> None:
    s = style(tmp_path)
    counts = pd.Series({"like": 30, "angry": 10})
    fig = charts.breakdown(
        counts, pd.Series({"like": 0.6, "angry": 0.1}), pd.Series({"like": 0.85, "angry": 0.4}), s
    )
    bar = fig.data[0]
    assert list(bar.y) == ["👍 Like", "😡 Angry"]
    assert list(bar.x) == [75.0, 25.0]
    assert list(bar.customdata) == [30, 10]
    assert list(bar.error_x.array) == [10.0, 15.0] and list(bar.error_x.arrayminus) == [15.0, 15.0]


def test_since_publication_is_cumulative_from_publish_hour(tmp_path: Path) -> None:
    s = style(tmp_path)
    timeline = pd.DataFrame(
        {
            "hours_since_publish": [0, 2, 2],
            "kind_id": ["like", "like", "sad"],
            "reactions": [4, 1, 3],
        }
    )
    fig = charts.since_publication(timeline, s)
    like = next(t for t in fig.data if t.name == "👍 Like")
    assert list(like.x) == [0, 1, 2] and list(like.y) == [4, 4, 5]
    assert fig.layout.xaxis.title.text == "Hours since publication"


def test_topic_heatmap_cells_are_shares(tmp_path: Path) -> None:
    s = style(tmp_path)
    counts = pd.DataFrame({"like": [3, 1], "angry": [1, 3]}, index=["Sports", "Politics"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig = charts.topic_heatmap(shares, counts, s)
    heat = fig.data[0]
    assert list(heat.y) == ["Sports", "Politics"]
    assert list(heat.x) == ["👍 Like", "😡 Angry"]
    assert [list(r) for r in heat.z] == [[75.0, 25.0], [25.0, 75.0]]
