"""The analyst's datasets, under the dashboard's `Filters`: the same numbers the pages show.

- `events`: raw reaction events in the filter (SQL, so COPY streams any size).
- `articles`: one row per article in the filter's scope — published, viewed or reacted to in
  its range — with zeros where it has no reaction (the top table, all of it): counts, views
  and the reaction rate, true shares with 95 % Wilson bounds, net sentiment, the previous
  period.
- `timeseries`: one row per interval bucket × kind (the mix chart, zero-filled), with the
  bucket's views, the kind's rate per 100 views, and the previous period's value beside it.

A rate is reactions per 100 views of the reaction bar, both under the same filter: the
views of the same articles in the same range (views have no kind and are never flagged).

Every column is described in `COLUMNS` for the manifest. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from reactions.metrics import article_lists, time_series
from reactions.metrics.buckets import bucket_grid, floor_all
from reactions.metrics.filters import Filters
from reactions.metrics.queries import reaction_kinds
from reactions.metrics.stats import per_100_views_of, rate_interval, wilson_interval

DATASETS = ("events", "articles", "timeseries")
# Articles whose id is in a bound list: a semi-join with the list unnested, a hash join where
# `WHERE list_contains(?, article_id)` tests every id against every row.
AMONG_IDS = "SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS article_id) USING (article_id)"
UTC_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # what a reader of the file should parse it as
    meaning: str


# The article's own columns, as both events and articles carry them.
ARTICLE_TEXT_COLUMNS = (
    Column("article_id", "text", "the article's id"),
    Column("title", "text", "the article's title"),
    Column("topic", "text", "the article's topic"),
    Column("author", "text", "the article's author"),
    Column("tags", "text", "the article's tags, separated by '; '"),
)

# --- articles ----------------------------------------------------------------------------


RATE_COLUMNS = (
    Column(
        "views",
        "integer",
        "times the article's reaction bar was shown in the range (once per reader and day)",
    ),
    Column("reaction_rate", "number", "reactions per 100 views; empty without views"),
    Column(
        "reaction_rate_low",
        "number",
        "95 % Wilson interval of reaction_rate, low end (what rankings by rate use)",
    ),
    Column("reaction_rate_high", "number", "95 % Wilson interval of reaction_rate, high end"),
)


def rate_columns(reactions: np.ndarray, views: np.ndarray) -> dict[str, np.ndarray]:
    """reaction_rate and its interval, per 100 views, rounded like every share."""
    rate, low, high = rate_interval(reactions, views)
    return {
        "reaction_rate": np.round(rate, 6),
        "reaction_rate_low": np.round(low, 6),
        "reaction_rate_high": np.round(high, 6),
    }


def articles_columns(kinds: list[str]) -> tuple[Column, ...]:
    per_kind = []
    for k in kinds:
        per_kind += [
            Column(k, "integer", f"standing '{k}' reactions added in the range"),
            Column(f"{k}_share", "number 0–1", f"'{k}' / reactions; empty without reactions"),
            Column(f"{k}_share_low", "number 0–1", f"95 % Wilson interval of {k}_share, low end"),
            Column(f"{k}_share_high", "number 0–1", f"95 % Wilson interval of {k}_share, high end"),
        ]
    return (
        *ARTICLE_TEXT_COLUMNS,
        Column("published_at_utc", "ISO 8601 UTC", "when the article was published"),
        Column("reactions", "integer", "standing reactions added in the range (all kinds shown)"),
        *RATE_COLUMNS,
        *per_kind,
        Column(
            "net_sentiment",
            "number −1–1",
            "mean sentiment of the reactions (kinds' sentiment); empty without reactions",
        ),
        Column("previous_reactions", "integer", "reactions in the previous period of equal length"),
        Column("change", "number", "reactions / previous_reactions − 1; empty without a base"),
    )


def articles_frame(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    kinds = dataset_kinds(cur, f)
    top = article_lists.top_articles(cur, f, kinds)
    columns = [c.name for c in articles_columns(kinds)]
    if top.empty:
        return pd.DataFrame(columns=columns)
    sentiment = reaction_kinds(cur, enabled_only=False).set_index("kind_id")["sentiment"]
    total = top["total"].to_numpy()
    out = pd.DataFrame(
        {
            "article_id": top["article_id"],
            "title": top["title"],
            "topic": top["topic"],
            "author": top["author"].fillna(""),
            "published_at_utc": top["published_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reactions": top["total"],
            "views": top["views"],
            **rate_columns(total, top["views"].to_numpy()),
        }
    )
    tags = dict(
        cur.execute(
            "SELECT article_id, array_to_string(coalesce(tags, []), '; ') FROM articles "
            f"{AMONG_IDS}",
            [top["article_id"].tolist()],
        ).fetchall()
    )
    out.insert(4, "tags", out["article_id"].map(tags).fillna(""))
    weighted = np.zeros(len(top))
    for k in kinds:
        count = top[k].to_numpy()
        low, high = wilson_interval(count, total)
        out[k] = count
        # six decimals: exact enough for any count here, and no 0.9999999999999999 beside 1;
        # empty without reactions: a share of nothing is not 0 %
        out[f"{k}_share"] = np.round(np.where(total > 0, count / np.maximum(total, 1), np.nan), 6)
        out[f"{k}_share_low"], out[f"{k}_share_high"] = np.round(low, 6), np.round(high, 6)
        weighted += count * float(sentiment.get(k, 0))
    out["net_sentiment"] = np.round(np.where(total > 0, weighted / np.maximum(total, 1), np.nan), 6)
    previous = f.previous()
    if previous is None:
        out["previous_reactions"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["change"] = np.nan
    else:
        before = (
            article_lists.counts_by_article(cur, previous).groupby("article_id")["reactions"].sum()
        )
        prev = out["article_id"].map(before).fillna(0).astype("int64")
        out["previous_reactions"] = prev
        out["change"] = np.round(
            np.where(prev > 0, out["reactions"] / prev.where(prev > 0, 1) - 1, np.nan), 6
        )
    return out.sort_values(["reactions", "article_id"], ascending=[False, True])[
        columns
    ].reset_index(drop=True)


# --- timeseries --------------------------------------------------------------------------

TIMESERIES_COLUMNS = (
    Column("bucket_start", "ISO 8601 local wall time", "start of the hour/day/week, in `timezone`"),
    Column("timezone", "IANA name", "the timezone of the buckets"),
    Column("interval", "text", "hour, day or week"),
    Column("kind", "text", "reaction kind id"),
    Column("reactions", "integer", "standing reactions added in the bucket"),
    Column("views", "integer", "views of the reaction bar in the bucket (the same for each kind)"),
    Column(
        "reaction_rate",
        "number",
        "this kind's reactions per 100 views in the bucket; empty without views",
    ),
    Column(
        "previous_reactions",
        "integer",
        "the same bucket one period earlier (shifted by the range's length); empty for all time",
    ),
)


def timeseries_frame(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    kinds = dataset_kinds(cur, f)
    columns = [c.name for c in TIMESERIES_COLUMNS]
    mix = time_series.mix_over_time(cur, f)
    per_bucket = time_series.views_over_time(cur, f)
    buckets = bucket_grid(f, [mix["bucket"], per_bucket["bucket"]])
    if not len(buckets) or not kinds:
        return pd.DataFrame(columns=columns)
    grid = pd.MultiIndex.from_product([buckets, kinds], names=["bucket", "kind_id"])
    now = mix.set_index(["bucket", "kind_id"])["reactions"].reindex(grid, fill_value=0)
    out = now.rename("reactions").reset_index()
    views = per_bucket.set_index("bucket")["views"]
    out["views"] = out["bucket"].map(views).fillna(0).astype("int64")
    out["reaction_rate"] = per_100_views_of(out["reactions"], out["views"])
    previous = f.previous()
    if previous is None:
        out["previous_reactions"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        assert f.start is not None and f.end is not None
        shift = pd.Timedelta(days=(f.end - f.start).days + 1)
        before = time_series.mix_over_time(cur, previous)
        # the previous period's buckets, moved forward by the period's length onto this one's
        before["bucket"] = floor_all(before["bucket"] + shift, f.interval)
        moved = before.groupby(["bucket", "kind_id"])["reactions"].sum()
        keys = pd.MultiIndex.from_frame(out[["bucket", "kind_id"]])
        out["previous_reactions"] = moved.reindex(keys, fill_value=0).to_numpy().astype("int64")
    out.insert(1, "timezone", f.zone.key)
    out.insert(2, "interval", f.interval)
    out["bucket_start"] = out.pop("bucket").dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = out.rename(columns={"kind_id": "kind"})
    return out[columns]


def dataset_kinds(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    """The kinds the dashboard shows: the filter's, else every enabled kind, in order."""
    enabled = reaction_kinds(cur)["kind_id"].tolist()
    return [k for k in enabled if k in f.kinds] if f.kinds else enabled
