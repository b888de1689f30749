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
from reactions.metrics.predicates import reaction_predicate
from reactions.metrics.queries import reaction_kinds
from reactions.metrics.stats import rate_interval, wilson_interval
from reactions.store.sql import QUARTER_HOUR_SQL

DATASETS = ("events", "articles", "timeseries")
# Articles whose id is in a bound list: a semi-join with the list unnested, 9 ms for 2,000
# ids where `WHERE list_contains(?, article_id)` took 50 ms.
AMONG_IDS = "SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS article_id) USING (article_id)"
UTC_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # what a reader of the file should parse it as
    meaning: str


def zone_offsets_sql(tz: str) -> str:
    """Each UTC quarter hour from the first to the last event (two bound timestamps), with
    `tz`'s offset in it as an interval (`shift`) and as ISO 8601 text (`suffix`, e.g. +05:30).
    A zone's offset changes only on a quarter hour (as db.QUARTER_HOUR_SQL relies on), so the
    events join this instead of converting each time: 10M events in Berlin time took 1.0 s to
    format where a conversion per event took 3.3–4.1 s, with the same text for every event
    (checked in four zones, Lord Howe's half-hour summer time among them). The bounds are
    values, not a subquery, so DuckDB knows the table is small and builds its join on the
    articles, not on 10M events (2.7 GB). `tz` is a validated IANA name (Filters.tz)."""
    offset = f"datediff('minute', quarter, timezone('{tz}', timezone('UTC', quarter)))"
    first = QUARTER_HOUR_SQL.format(column="?::TIMESTAMP")
    return f"""
        SELECT quarter, to_minutes({offset}) AS shift,
               printf('%s%02d:%02d', CASE WHEN {offset} < 0 THEN '-' ELSE '+' END,
                      abs({offset}) // 60, abs({offset}) % 60) AS suffix
        FROM range({first}, ?::TIMESTAMP + INTERVAL 15 MINUTES, INTERVAL 15 MINUTES) t(quarter)
    """


# The article's own columns, as both events and articles carry them.
ARTICLE_TEXT_COLUMNS = (
    Column("article_id", "text", "the article's id"),
    Column("title", "text", "the article's title"),
    Column("topic", "text", "the article's topic"),
    Column("author", "text", "the article's author"),
    Column("tags", "text", "the article's tags, separated by '; '"),
)

# --- events ------------------------------------------------------------------------------

EVENTS_COLUMNS = (
    Column("event_id", "integer", "position in the append-only log (consecutive)"),
    Column("occurred_at_utc", "ISO 8601 UTC", "when the tap happened"),
    Column("occurred_at_local", "ISO 8601 with offset", "the same instant in `timezone`"),
    Column("timezone", "IANA name", "the timezone of occurred_at_local"),
    *ARTICLE_TEXT_COLUMNS,
    Column("kind", "text", "reaction kind id"),
    Column("action", "text", "'add' (a reaction) or 'remove' (an undo, or half of a switch)"),
    Column("source", "text", "widget, api, synthetic or import"),
    Column("reader_hash", "text", "salted hash of the reader; never the raw id or address"),
)


# The article's text as the events dataset carries it: SQL over `articles`, in column order.
EVENT_ARTICLE_TEXT_SQL = (
    ("article_id", "article_id"),
    ("title", "title"),
    ("topic", "topic"),
    ("author", "author"),
    ("tags", "array_to_string(tags, '; ')"),
)
CSV_FIELD_BREAKERS = '[",\\r\\n]'  # regex: a field holding any of these is quoted


def events_query(
    cur: duckdb.DuckDBPyConnection, f: Filters, *, ordered: bool = True
) -> tuple[str, list[object]]:
    """SQL of the raw events in the filter, one typed column each (Parquet). The
    date range applies to when each event happened. `ordered` sorts by event_id; without it
    COPY streams blocks as they come (see export.ORDERED_UP_TO)."""
    article = ", ".join(f"{sql} AS {name}" for name, sql in EVENT_ARTICLE_TEXT_SQL)
    select = ", ".join(f"{sql} AS {name}" for name, sql in _event_fields(f, spreadsheet_safe=False))
    return _events_select(cur, f, article, select, ordered)


def events_csv_query(
    cur: duckdb.DuckDBPyConnection, f: Filters, *, ordered: bool = True
) -> tuple[str, list[object]]:
    """The same events as finished CSV lines: one column, named with the header line, to COPY
    with quoting off (export.CSV_LINES). DuckDB's CSV writer costs per value: handing it one
    value a row instead of thirteen took a 10M-event export from 8.3–11.6 s to 6.2–8.3 s on two
    cores (alternating runs).

    So the lines follow the CSV dialect here, in SQL. The article's text gets the formula rule
    and RFC 4180 quoting once per article, as one block. No per-event field needs quoting: ids,
    ISO times and IANA names hold no comma, quote or line break, kind ids are
    kinds.KIND_ID, action and source are checked by the table, and reader hashes are base64url
    (`-` is the one formula character they can start with)."""
    fields = _event_fields(f, spreadsheet_safe=True)
    quoted = [_csv_field(safe_text_sql(sql)) for _, sql in EVENT_ARTICLE_TEXT_SQL]
    article = f"{_comma_joined(quoted)} AS block"
    first_text, *other_text = (name for name, _ in EVENT_ARTICLE_TEXT_SQL)
    parts = [
        "a.block" if name == first_text else sql for name, sql in fields if name not in other_text
    ]
    header = ",".join(name for name, _ in fields)
    line = f'{_comma_joined(parts)} AS "{header}"'
    return _events_select(cur, f, article, line, ordered)


def _event_fields(f: Filters, *, spreadsheet_safe: bool) -> list[tuple[str, str]]:
    """(name, SQL) of every events column in order; the article's text comes from `a`."""
    utc = f"strftime(e.occurred_at, '{UTC_ISO}')"
    local = (
        # the UTC text's seconds: DuckDB formats the time once for both (~0.3 s less at 10M)
        f"left({utc}, 19) || '+00:00'"
        if f.zone.key == "UTC"
        else "strftime(e.occurred_at + z.shift, '%Y-%m-%dT%H:%M:%S') || z.suffix"
    )
    # reader hashes are base64url: '-' is the only formula character one can start with
    reader = (
        "CASE WHEN starts_with(e.reader_hash, '-') THEN chr(39) || e.reader_hash "
        "ELSE e.reader_hash END"
        if spreadsheet_safe
        else "e.reader_hash"
    )
    return [
        ("event_id", "e.event_id"),
        ("occurred_at_utc", utc),
        ("occurred_at_local", local),
        ("timezone", f"'{f.zone.key}'"),
        *((name, f"a.{name}") for name, _ in EVENT_ARTICLE_TEXT_SQL),
        ("kind", "e.kind_id"),
        ("action", "e.action"),
        ("source", "e.source"),
        ("reader_hash", reader),
    ]


def _events_select(
    cur: duckdb.DuckDBPyConnection, f: Filters, article: str, select: str, ordered: bool
) -> tuple[str, list[object]]:
    """`select` over the events in the filter joined to `a` (`article` per article) and,
    outside UTC, to `z`: the zone's offset in each quarter hour (zone_offsets_sql)."""
    where = reaction_predicate(f, alias="e", time_column="occurred_at")
    if f.zone.key == "UTC":
        zone, in_zone, params = "", "", where.params
    else:
        zone = f", z AS ({zone_offsets_sql(f.zone.key)})"
        in_zone = f"JOIN z ON z.quarter = {QUARTER_HOUR_SQL.format(column='e.occurred_at')}"
        span = cur.execute("SELECT min(occurred_at), max(occurred_at) FROM reaction_events")
        params = [*span.fetchall()[0], *where.params]  # 1 ms: DuckDB keeps both in statistics
    sql = f"""
        WITH a AS (SELECT article_id AS a_id, {article} FROM articles){zone}
        SELECT {select}
        FROM reaction_events e JOIN a ON a.a_id = e.article_id {in_zone}
        WHERE {where.sql}
        {"ORDER BY e.event_id" if ordered else ""}
    """
    return sql, params


def _comma_joined(expressions: list[str]) -> str:
    """SQL of the text values joined by commas (one concat: a chain of || copies each time)."""
    return "concat(" + ", ',', ".join(expressions) + ")"


def _csv_field(expression: str) -> str:
    """RFC 4180 as DuckDB's writer does it: quoted when empty or holding a comma, quote or
    line break, inner quotes doubled."""
    return (
        f"CASE WHEN {expression} = '' OR regexp_matches({expression}, '{CSV_FIELD_BREAKERS}') "
        f"THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' ELSE {expression} END"
    )


def safe_text_sql(expression: str) -> str:
    """The CSV formula rule in SQL: text starting with = + - @, tab or CR gets a leading '."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN chr(39) || {expression} ELSE {expression} END"
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
    kinds = _kinds(cur, f)
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
    kinds = _kinds(cur, f)
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
    out["reaction_rate"] = np.round(
        out["reactions"] / out["views"].where(out["views"] > 0) * 100, 6
    )
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


def _kinds(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    """The kinds the dashboard shows: the filter's, else every enabled kind, in order."""
    enabled = reaction_kinds(cur)["kind_id"].tolist()
    return [k for k in enabled if k in f.kinds] if f.kinds else enabled


def columns_for(cur: duckdb.DuckDBPyConnection, dataset: str, f: Filters) -> tuple[Column, ...]:
    if dataset == "events":
        return EVENTS_COLUMNS
    if dataset == "articles":
        return articles_columns(_kinds(cur, f))
    return TIMESERIES_COLUMNS
