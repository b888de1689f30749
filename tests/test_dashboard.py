"""Every figure the dashboard shows, under several filter combinations (including an empty
one), equals an independent pandas computation from the raw event log (tests/independent.py).
The pages run in the real Streamlit runtime (AppTest) on a real DuckDB file."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from reactions.store.articles import upsert_articles
from tests import independent, on_screen
from tests.independent import View

ENTRY = str(Path(__file__).parents[1] / "src" / "reactions" / "ui" / "entry.py")
KINDS = ["like", "dislike", "love", "funny", "angry", "sad", "wow"]

VIEWS = {
    "all time": View(),
    "one week in Kolkata, two topics": View(
        date(2026, 11, 10), date(2026, 11, 16), "Asia/Kolkata", topics=("Politics", "World")
    ),
    "angry and sad in New York, title search": View(
        date(2026, 11, 1),
        date(2026, 11, 20),
        "America/New_York",
        kinds=("angry", "sad"),
        search="in",
    ),
    "one author's Politics tag, weekly": View(
        date(2026, 10, 21),
        date(2026, 11, 20),
        "Europe/Paris",
        tags=("Elections", "Budget"),
        interval="week",
    ),
    "hourly over two days": View(
        date(2026, 11, 18), date(2026, 11, 19), "America/Los_Angeles", interval="hour"
    ),
    "empty future week": View(date(2027, 1, 1), date(2027, 1, 7)),
}


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def raw(demo_db: Path) -> independent.RawData:
    return independent.load(demo_db)


@pytest.fixture(scope="module")
def standing(raw: independent.RawData) -> pd.DataFrame:
    return independent.standing(raw)


def open_page(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    query: dict[str, Any],
    page: str | None = None,
    page_query: dict[str, str] | None = None,
) -> AppTest:
    """Open the app with `query` in the URL (a pasted link), then switch to `page` with the
    page's own parameters, as the Overview does when a row is selected."""
    monkeypatch.setenv("REACTIONS_DB", str(db))
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        for key, value in (page_query or {}).items():
            at.query_params[key] = value
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def plotly_json(at: AppTest, index: int = 0) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(at.get("plotly_chart")[index].proto.spec)
    return spec


def values(array: Any) -> np.ndarray:
    """A plotly JSON array: plain list, or {dtype, bdata} base64 typed array."""
    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
        shape = array.get("shape")
        if shape:
            dims = [int(n) for n in str(shape).split(",")]
            data = data.reshape(dims)
        return data
    return np.asarray(array)


def label_to_kind(label: str) -> str:
    return label.split(" ", 1)[1].lower()


@pytest.mark.parametrize("name", list(VIEWS))
def test_overview_figures_match_the_raw_events(
    name: str,
    demo_db: Path,
    raw: independent.RawData,
    standing: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = VIEWS[name]
    at = open_page(demo_db, monkeypatch, view.query())
    rows = view.select(standing)
    n, readers, articles, mood = independent.kpis(rows, raw.sentiment)
    metrics = on_screen.kpis(at)
    assert metrics["Reactions"].value == f"{n:,}"
    assert metrics["Reacting readers"].value == f"{readers:,}"
    assert metrics["Articles reacted to"].value == f"{articles:,}"
    viewed = view.select_views(raw.views)["article_id"].nunique()
    assert metrics["Articles viewed"].value == f"{viewed:,}"
    assert metrics["Net sentiment"].value == ("–" if mood is None else f"{mood:+.2f}")
    previous = view.previous()
    if previous is not None:
        before = independent.kpis(previous.select(standing), raw.sentiment)[0]
        expected = f"{(n - before) / before:+.1%}" if before else None
        assert (metrics["Reactions"].delta or None) == expected

    if n == 0 and viewed == 0:
        assert any("No reactions or views in this range" in i.value for i in at.info)
        assert len(at.get("plotly_chart")) == 0
        return

    # Reaction mix over time (the view's interval, in its timezone).
    expected_mix = (
        rows.assign(bucket=independent.local_buckets(rows, view.tz, view.interval))
        .groupby(["bucket", "kind_id"])
        .size()
    )
    shown: dict[tuple[pd.Timestamp, str], float] = {}
    for trace in plotly_json(at)["data"]:
        kind = label_to_kind(trace["name"])
        for x, y in zip(values(trace["x"]), values(trace["y"]), strict=True):
            if y:
                shown[(pd.Timestamp(x), kind)] = float(y)
    assert shown == {k: float(v) for k, v in expected_mix.items()}

    # Top articles: order and every count of the 50 shown — every article in scope, those
    # nobody reacted to with zeros.
    scope = independent.in_scope(raw, view, standing)
    per_article = (
        rows.groupby(["article_id", "kind_id"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=scope, columns=KINDS, fill_value=0)
        .rename_axis("article_id")
    )
    per_article["total"] = per_article.sum(axis=1)
    per_article = (
        per_article.reset_index()
        .sort_values(["total", "article_id"], ascending=[False, True])
        .head(50)
    )
    titles = raw.articles.set_index("article_id")["title"]
    table = at.dataframe[0].value
    assert table["title"].tolist() == [titles[a] for a in per_article["article_id"]]
    for kind in [*KINDS, "total"]:
        assert table[kind].tolist() == per_article[kind].tolist()


@pytest.mark.parametrize("name", [n for n in VIEWS if n != "empty future week"])
def test_topic_shares_and_article_breakdown_match_the_raw_events(
    name: str,
    demo_db: Path,
    raw: independent.RawData,
    standing: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = VIEWS[name]
    rows = view.select(standing)
    at = open_page(demo_db, monkeypatch, view.query(), "views/topics.py")
    heatmap = plotly_json(at)["data"][0]
    z = values(heatmap["z"])
    counts = rows.groupby(["topic", "kind_id"]).size().unstack(fill_value=0)
    for i, topic in enumerate(heatmap["y"]):
        for j, label in enumerate(heatmap["x"]):
            kind = label_to_kind(label)
            expected = counts.loc[topic].get(kind, 0) / counts.loc[topic].sum() * 100
            assert z[i][j] == pytest.approx(expected, abs=1e-9)
    assert set(heatmap["y"]) == set(counts.index)

    # The detail page of the view's most reacted article shows the same breakdown.
    top = rows.groupby("article_id").size().sort_values(ascending=False).index[0]
    detail = open_page(demo_db, monkeypatch, view.query(), "views/article.py", {"id": top})
    table = detail.dataframe[0].value
    own = view.select(standing[standing["article_id"] == top], with_articles=False)
    expected_counts = own.groupby("kind_id").size().reindex(KINDS, fill_value=0)
    assert [label_to_kind(r) for r in table["reaction"]] == KINDS
    assert table["count"].tolist() == expected_counts.tolist()
    assert table["share"].sum() == pytest.approx(100.0)


def test_share_toggle_stacks_to_one_hundred_percent(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_db, monkeypatch, {"range": "all", "share": "1"})
    assert at.toggle[0].value is True
    traces = plotly_json(at)["data"]
    assert all(t["groupnorm"] == "percent" for t in traces)
    assert plotly_json(at)["layout"]["yaxis"]["title"]["text"] == "Share of reactions (%)"
    at.toggle[0].set_value(False).run()
    assert "share" not in at.query_params
    assert all(t.get("groupnorm", "") == "" for t in plotly_json(at)["data"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"topic": "Gardening"}, "Unknown topic 'Gardening': ignored."),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "starts (2026-11-20) after it ends"),
        ({"from": "yesterday", "to": "2026-11-01"}, "from='yesterday' is not a date"),
        ({"range": "forever"}, "Unknown range 'forever'"),
        ({"interval": "fortnight"}, "Unknown interval 'fortnight'"),
        ({"tz": "Mars/Olympus_Mons"}, "Unknown timezone 'Mars/Olympus_Mons'"),
        ({"kind": "'; DROP TABLE reaction_events; --"}, "Unknown reaction kind"),
    ],
)
def test_bad_link_parameters_get_a_clear_message_not_an_exception(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, query: dict[str, str], message: str
) -> None:
    at = open_page(demo_db, monkeypatch, query)
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]
    assert on_screen.kpis(at)  # the page still works with the bad value dropped


def test_filters_are_written_to_the_url(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_db, monkeypatch, {"range": "all"})
    at.sidebar.multiselect[0].set_value(["Politics"]).run()  # Topics
    assert at.query_params["topic"] == ["Politics"] or at.query_params["topic"] == "Politics"
    assert at.query_params["range"] in ("all", ["all"])


def test_unknown_article_and_missing_id_say_so(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_db, monkeypatch, {}, "views/article.py", {"id": "no-such-story"})
    assert "No article with id 'no-such-story'" in at.error[0].value
    at = open_page(demo_db, monkeypatch, {}, "views/article.py")
    assert "Select an article" in at.info[0].value


def test_author_filter_counts_only_that_authors_articles(
    demo_db: Path,
    raw: independent.RawData,
    standing: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    author = str(raw.articles["author"].value_counts().index[0])
    view = View(authors=(author,))
    at = open_page(demo_db, monkeypatch, view.query())
    rows = view.select(standing)
    assert on_screen.kpis(at)["Reactions"].value == f"{len(rows):,}"
    assert set(at.dataframe[0].value["author"]) == {author}


def test_share_ranking_uses_the_conservative_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 angry of 3 must not outrank 60 angry of 80: rank by the interval's low end."""
    from reactions.store.store import Store
    from tests.conftest import make_articles

    db = tmp_path / "rank.duckdb"
    store = Store.open(db)
    upsert_articles(store, make_articles("tiny-story", "big-story"))
    for i in range(3):
        store.record_reaction("tiny-story", f"t{i}", "angry")
    for i in range(80):
        store.record_reaction("big-story", f"b{i}", "angry" if i < 60 else "like")
    store.close()
    at = open_page(db, monkeypatch, {"range": "all", "sort": "angry:share"})
    table = at.dataframe[0].value
    assert table["title"].tolist() == ["Title of big-story", "Title of tiny-story"]
    assert table["few"].tolist() == [False, True]  # the "few reactions" badge
    assert table["interval"].tolist()[1].startswith("43.9–100.0")


def test_top_table_compares_each_article_with_the_previous_period(
    demo_db: Path, standing: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = View(date(2026, 11, 14), date(2026, 11, 20), kinds=("angry",))
    at = open_page(demo_db, monkeypatch, {**view.query(), "sort": "angry:count"})
    table = at.dataframe[0].value
    previous = view.previous()
    assert previous is not None
    before = previous.select(standing).groupby("title").size()
    now = view.select(standing).groupby("title").size()
    for title, shown_before, shown_now in zip(
        table["title"], table["previous"], table["angry"], strict=True
    ):
        assert shown_now == now.get(title, 0)
        assert shown_before == before.get(title, 0)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (None, "No reactions or views in this range"),
        ("views/topics.py", "No reactions or views in this range"),
        ("views/article.py", "Select an article"),
    ],
)
def test_an_empty_newsroom_gets_explicit_empty_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str | None, message: str
) -> None:
    from reactions.store.connection import connect

    db = tmp_path / "empty.duckdb"
    connect(db).close()
    at = open_page(db, monkeypatch, {"range": "all"}, page)
    assert any(message in i.value for i in at.info), [i.value for i in at.info]
    assert len(at.get("plotly_chart")) == 0


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_and_rates_use_the_filtered_denominator(
    name: str,
    demo_db: Path,
    raw: independent.RawData,
    standing: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Views and reactions per 100 views on every page, against the raw view log under the
    same filter: the same articles, the same range (a kind filter narrows the reactions,
    not the views)."""
    view = VIEWS[name]
    rows, seen = view.select(standing), view.select_views(raw.views)
    at = open_page(demo_db, monkeypatch, view.query())
    metrics = on_screen.kpis(at)
    assert metrics["Views"].value == f"{len(seen):,}"
    expected_rate = independent.rate(len(rows), len(seen))
    assert metrics["Reactions per 100 views"].value == (
        "–" if expected_rate is None else f"{expected_rate:.2f}"
    )
    previous = view.previous()
    if previous is not None:
        before = len(previous.select_views(raw.views))
        expected = f"{(len(seen) - before) / before:+.1%}" if before else None
        assert (metrics["Views"].delta or None) == expected
    if rows.empty:
        return

    # the rate over time: each bucket's reactions per 100 of its views, in the view's zone
    rate_chart = plotly_json(at, 1)
    assert rate_chart["layout"]["title"]["text"] == "Reaction rate over time"
    line = rate_chart["data"][0]
    shown_rate = {
        pd.Timestamp(x): float(y)
        for x, y in zip(values(line["x"]), values(line["y"]), strict=True)
        if y is not None and not np.isnan(float(y))
    }
    per_bucket = pd.DataFrame(
        {
            "reactions": rows.groupby(
                independent.local_buckets(rows, view.tz, view.interval)
            ).size(),
            "views": seen.groupby(independent.local_buckets(seen, view.tz, view.interval)).size(),
        }
    ).fillna(0)
    per_bucket = per_bucket[per_bucket["views"] > 0]
    rate_per_bucket = per_bucket["reactions"] / per_bucket["views"] * 100
    buckets = [pd.Timestamp(b) for b in rate_per_bucket.index]
    assert sorted(shown_rate) == sorted(buckets)
    assert [shown_rate[b] for b in buckets] == pytest.approx(rate_per_bucket.tolist(), abs=1e-5)

    views_per_article = seen.groupby("article_id").size()
    table = at.dataframe[0].value
    titles = raw.articles.set_index("title")["article_id"]
    for title, shown_views, shown_rate, total in zip(
        table["title"], table["views"], table["rate"], table["total"], strict=True
    ):
        n = int(views_per_article.get(titles[title], 0))
        assert shown_views == n
        assert (np.isnan(shown_rate) and n == 0) or shown_rate == pytest.approx(100 * total / n)

    topics = open_page(demo_db, monkeypatch, view.query(), "views/topics.py")
    topic_table = topics.dataframe[0].value.set_index("topic")
    reactions_per_topic = rows.groupby("topic").size()
    views_per_topic = seen.groupby("topic").size()
    for topic, row in topic_table.iterrows():
        n = int(views_per_topic.get(str(topic), 0))
        assert row["views"] == n
        assert row["rate"] == pytest.approx(100 * reactions_per_topic.get(str(topic), 0) / n)

    top = rows.groupby("article_id").size().sort_values(ascending=False).index[0]
    detail = open_page(demo_db, monkeypatch, view.query(), "views/article.py", {"id": top})
    own_views = len(
        view.select_views(raw.views[raw.views["article_id"] == top], with_articles=False)
    )
    own = view.select(standing[standing["article_id"] == top], with_articles=False)
    figures = on_screen.kpis(detail)
    assert figures["Views"].value == f"{own_views:,}"
    own_rate = independent.rate(len(own), own_views)
    assert figures["Reactions per 100 views"].value == (
        "–" if own_rate is None else f"{own_rate:.2f}"
    )


def test_rate_since_publication_matches_the_raw_logs(
    demo_db: Path,
    raw: independent.RawData,
    standing: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = VIEWS["one week in Kolkata, two topics"]
    rows = view.select(standing)
    top = rows.groupby("article_id").size().sort_values(ascending=False).index[0]
    detail = open_page(demo_db, monkeypatch, view.query(), "views/article.py", {"id": top})
    chart = next(
        plotly_json(detail, i)
        for i in range(len(detail.get("plotly_chart")))
        if plotly_json(detail, i)["layout"]["title"]["text"] == "Reaction rate since publication"
    )
    published = raw.articles.set_index("article_id").loc[top, "published_at"]
    own = view.select(standing[standing["article_id"] == top], with_articles=False)
    seen = view.select_views(raw.views[raw.views["article_id"] == top], with_articles=False)

    def hours(times: pd.Series) -> pd.Series:
        elapsed: pd.Series = (times - published).dt.total_seconds() // 3600
        return elapsed.astype(int)

    per_hour = pd.DataFrame(
        {
            "reactions": hours(own["added_at"]).value_counts(),
            "views": hours(seen["added_at"]).value_counts(),
        }
    ).fillna(0)
    per_hour = per_hour.reindex(range(per_hour.index.min(), per_hour.index.max() + 1), fill_value=0)
    cumulative_views = per_hour["views"].cumsum()
    so_far = per_hour["reactions"].cumsum() / cumulative_views.where(cumulative_views > 0) * 100
    line = next(t for t in chart["data"] if t["name"] == "Since publication")
    assert values(line["x"]).tolist() == per_hour.index.tolist()
    shown = np.array([np.nan if y is None else float(y) for y in values(line["y"])])
    assert shown == pytest.approx(so_far.to_numpy(), nan_ok=True)


def test_ranking_by_rate_uses_the_conservative_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 reactions from 3 views must not outrank 300 from 6,000: too few views to rank above
    any rate that has enough, though its interval's low end (21 %) is higher."""
    from datetime import datetime

    from reactions.store.bar_views import View as BarView
    from reactions.store.store import Store
    from tests.conftest import make_articles

    db = tmp_path / "rate.duckdb"
    store = Store.open(db)
    upsert_articles(store, make_articles("tiny-story", "big-story", "unseen-story"))
    at_time = datetime(2026, 11, 2, 9)
    store.record_views([BarView("tiny-story", f"t{i}", at=at_time) for i in range(3)])
    store.record_views([BarView("big-story", f"b{i}", at=at_time) for i in range(6_000)])
    for i in range(2):
        store.record_reaction("tiny-story", f"t{i}", "love")
    for i in range(300):
        store.record_reaction("big-story", f"b{i}", "like")
    store.record_reaction("unseen-story", "api-only", "like")  # reactions but no views
    store.close()
    at = open_page(db, monkeypatch, {"range": "all", "sort": "rate"})
    table = at.dataframe[0].value
    assert table["title"].tolist() == [
        "Title of big-story",
        "Title of tiny-story",
        "Title of unseen-story",
    ]
    assert table["rate"].tolist()[:2] == pytest.approx([5.0, 200 / 3])
    assert np.isnan(table["rate"].tolist()[2])
    assert table["interval"].tolist()[2] == "no views"
    assert table["few_views"].tolist() == [False, True, True]
    low = independent.wilson_low(2, 3) * 100
    assert table["interval"].tolist()[1].startswith(f"{low:.2f}–")


def test_time_charts_show_empty_buckets_as_zero(
    demo_db: Path, raw: independent.RawData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All time: the seed article's 2023 reactions and the demo's month are years apart. The
    mix and rate charts draw every day between them as zero (no wedge across the gap), start
    at the first day with data, and say so."""
    at = open_page(demo_db, monkeypatch, {"range": "all", "tz": "UTC"})
    first = raw.events["occurred_at"].min().floor("D")
    for index in (0, 1):  # mix, rate
        for trace in plotly_json(at, index)["data"]:
            days = pd.to_datetime(pd.Series(values(trace["x"])))
            assert days.iloc[0] == first
            assert (days.diff().dropna() == pd.Timedelta(days=1)).all()
    mix = plotly_json(at, 0)["data"]
    per_day = np.sum([values(t["y"]).astype(float) for t in mix], axis=0)
    assert int((per_day == 0).sum()) > 600  # the empty days between 2023 and 2026, as zeros
    assert any(
        f"All time starts at {first:%b %d, %Y}, the first day with reactions" in c.value
        for c in at.caption
    )
