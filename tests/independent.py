"""An independent computation of every dashboard figure, straight from the raw event log with
pandas: no SQL from the product, no derived tables. Tests compare the pages against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from reactions.store.connection import connect


@dataclass
class RawData:
    events: pd.DataFrame
    articles: pd.DataFrame
    sentiment: dict[str, int]
    views: pd.DataFrame  # the raw view log, with article metadata


def load(db: Path) -> RawData:
    with connect(db, migrate=False) as con:
        return load_from(con.cursor())


def load_from(cur: duckdb.DuckDBPyConnection) -> RawData:
    events = cur.execute("SELECT * FROM reaction_events").df()
    articles = cur.execute("SELECT * FROM articles").df()
    kinds = cur.execute("SELECT kind_id, sentiment FROM reaction_kinds").df()
    views = cur.execute("SELECT viewed_at, article_id FROM view_events").df()
    meta = articles[["article_id", "title", "topic", "author", "tags", "published_at"]]
    return RawData(
        events,
        articles,
        dict(zip(kinds["kind_id"], kinds["sentiment"], strict=True)),
        views.merge(meta, on="article_id"),
    )


def standing(raw: RawData) -> pd.DataFrame:
    """Reactions that still stand: per reader, article and kind, the latest event is an add.
    Columns: article_id, reader_hash, kind_id, event_id (of the add), added_at (UTC), plus
    article metadata."""
    ordered = raw.events.sort_values("event_id")
    last = ordered.groupby(["article_id", "reader_hash", "kind_id"], observed=True).tail(1)
    alive = last[last["action"] == "add"].rename(columns={"occurred_at": "added_at"})
    meta = raw.articles[["article_id", "title", "topic", "author", "tags", "published_at"]]
    return alive[["article_id", "reader_hash", "kind_id", "event_id", "added_at"]].merge(
        meta, on="article_id"
    )


@dataclass(frozen=True)
class View:
    start: date | None = None
    end: date | None = None
    tz: str = "UTC"
    topics: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    search: str = ""
    interval: str = "day"

    def query(self) -> dict[str, str | list[str]]:
        q: dict[str, str | list[str]] = {"tz": self.tz, "interval": self.interval}
        if self.start and self.end:
            q["from"], q["to"] = self.start.isoformat(), self.end.isoformat()
        else:
            q["range"] = "all"
        for key, values in (
            ("topic", self.topics),
            ("author", self.authors),
            ("tag", self.tags),
            ("kind", self.kinds),
        ):
            if values:
                q[key] = list(values)
        if self.search:
            q["q"] = self.search
        return q

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        def utc(day: date) -> datetime:
            local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.tz))
            return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

        return (
            utc(self.start) if self.start else None,
            utc(self.end + timedelta(days=1)) if self.end else None,
        )

    def previous(self) -> View | None:
        if not (self.start and self.end):
            return None
        days = (self.end - self.start).days + 1
        return View(
            self.start - timedelta(days=days),
            self.start - timedelta(days=1),
            self.tz,
            self.topics,
            self.authors,
            self.tags,
            self.kinds,
            self.search,
        )

    def select_views(self, views: pd.DataFrame, *, with_articles: bool = True) -> pd.DataFrame:
        """The views in this view's range on its articles: the denominator of its rates
        (kinds do not apply to views)."""
        plain = View(
            self.start, self.end, self.tz, self.topics, self.authors, self.tags, (), self.search
        )
        return plain.select(
            views.rename(columns={"viewed_at": "added_at"}), with_articles=with_articles
        )

    def select(self, rows: pd.DataFrame, *, with_articles: bool = True) -> pd.DataFrame:
        lo, hi = self.bounds()
        keep = pd.Series(True, index=rows.index)
        if lo is not None:
            keep &= rows["added_at"] >= lo
        if hi is not None:
            keep &= rows["added_at"] < hi
        if self.kinds:
            keep &= rows["kind_id"].isin(self.kinds)
        if with_articles:
            if self.topics:
                keep &= rows["topic"].isin(self.topics)
            if self.authors:
                keep &= rows["author"].isin(self.authors)
            if self.tags:
                keep &= rows["tags"].map(lambda t: bool(set(t) & set(self.tags)))
            if self.search:
                keep &= rows["title"].str.lower().str.contains(self.search.lower(), regex=False)
        return rows[keep]


def in_scope(raw: RawData, view: View, standing: pd.DataFrame) -> list[str]:
    """The articles an article list under `view` must hold: those its article filters pick
    that were published, viewed or reacted to (a standing reaction of its kinds) in its
    range — with or without reactions."""
    articles = raw.articles.rename(columns={"published_at": "added_at"})
    published = View(
        view.start, view.end, view.tz, view.topics, view.authors, view.tags, (), view.search
    ).select(articles)
    return sorted(
        set(published["article_id"])
        | set(view.select_views(raw.views)["article_id"])
        | set(view.select(standing)["article_id"])
    )


def rate(reactions: float, views: float) -> float | None:
    """Reactions per 100 views."""
    return 100 * reactions / views if views else None


def wilson_low(k: float, n: float, z: float = 1.959964) -> float:
    """The low end of the 95 % Wilson interval of k successes in n (0 for n = 0)."""
    if n == 0:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return max(0.0, float((centre - spread) / (1 + z * z / n)))


def kpis(rows: pd.DataFrame, sentiment: dict[str, int]) -> tuple[int, int, int, float | None]:
    if rows.empty:
        return 0, 0, 0, None
    return (
        len(rows),
        rows["reader_hash"].nunique(),
        rows["article_id"].nunique(),
        float(rows["kind_id"].map(sentiment).mean()),
    )


def local_buckets(rows: pd.DataFrame, tz: str, interval: str) -> pd.Series:
    local = rows["added_at"].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    if interval == "week":
        weeks: pd.Series = local.dt.to_period("W-SUN").dt.start_time
        return weeks
    floored: pd.Series = local.dt.floor("h" if interval == "hour" else "D")
    return floored
