"""The raw events dataset as SQL, so COPY streams any size: typed columns (Parquet) or finished
CSV lines (see events_csv_query), with each event's time in UTC and in the analyst's zone."""

from __future__ import annotations

import duckdb

from reactions.exports.datasets import ARTICLE_TEXT_COLUMNS, UTC_ISO, Column
from reactions.exports.dialect import csv_field, safe_text_sql
from reactions.metrics.filters import Filters
from reactions.metrics.predicates import reaction_predicate
from reactions.store.sql import QUARTER_HOUR_SQL


def zone_offsets_sql(tz: str) -> str:
    """Each UTC quarter hour from the first to the last event (two bound timestamps), with
    `tz`'s offset in it as an interval (`shift`) and as ISO 8601 text (`suffix`, e.g. +05:30).
    A zone's offset changes only on a quarter hour (as db.QUARTER_HOUR_SQL relies on), so the
    events join this instead of an ICU conversion each, with the same text for every event
    (tests check four zones, Lord Howe's half-hour summer time among them). The bounds are
    values, not a subquery, so DuckDB knows the table is small and builds its join on the
    articles, not on the events. `tz` is a validated IANA name (Filters.tz)."""
    offset = f"datediff('minute', quarter, timezone('{tz}', timezone('UTC', quarter)))"
    first = QUARTER_HOUR_SQL.format(column="?::TIMESTAMP")
    return f"""
        SELECT quarter, to_minutes({offset}) AS shift,
               printf('%s%02d:%02d', CASE WHEN {offset} < 0 THEN '-' ELSE '+' END,
                      abs({offset}) // 60, abs({offset}) % 60) AS suffix
        FROM range({first}, ?::TIMESTAMP + INTERVAL 15 MINUTES, INTERVAL 15 MINUTES) t(quarter)
    """


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
    with quoting off (dialect.CSV_LINES). DuckDB's CSV writer costs per value, so it gets one
    value a row instead of thirteen.

    So the lines follow the CSV dialect here, in SQL. The article's text gets the formula rule
    and RFC 4180 quoting once per article, as one block. No per-event field needs quoting: ids,
    ISO times and IANA names hold no comma, quote or line break, kind ids are
    kinds.KIND_ID, action and source are checked by the table, and reader hashes are base64url
    (`-` is the one formula character they can start with)."""
    fields = _event_fields(f, spreadsheet_safe=True)
    quoted = [csv_field(safe_text_sql(sql)) for _, sql in EVENT_ARTICLE_TEXT_SQL]
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
        # the UTC text's seconds: DuckDB formats the time once for both
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
        params = [*span.fetchall()[0], *where.params]  # cheap: DuckDB keeps both in statistics
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
