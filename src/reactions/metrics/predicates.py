"""The dashboard's filters as SQL: bound predicates over our tables, never values pasted into
SQL text (tests/test_sql_safety.py checks). Parsing a filter from a link is filters.py."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from reactions.metrics.filters import Filters
from reactions.store.derived import is_kept


@dataclass(frozen=True)
class Predicate:
    """A WHERE clause over `current_reactions` (alias c) with its bound values."""

    sql: str
    params: list[object]


def reaction_predicate(
    f: Filters,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    use_range: bool = True,
    alias: str = "c",
    time_column: str = "added_at",
) -> Predicate:
    """Rows in the filter: of current_reactions (alias c, by when each was added) by default,
    or of the event log (alias="e", time_column="occurred_at"). `start`/`end` override the
    filter's own range (the previous period's query uses its own bounds). `alias` and
    `time_column` are the callers' constants, never input."""
    clauses: list[str] = []
    params: list[object] = []
    if use_range:
        lo, hi = (start, end) if (start or end) else f.utc_bounds()
        within = range_predicate(f"{alias}.{time_column}", lo, hi)
        if within.params:
            clauses.append(within.sql)
            params.extend(within.params)
    if f.kinds:
        clauses.append(f"{alias}.kind_id IN ({', '.join('?' * len(f.kinds))})")
        params.extend(f.kinds)
    if f.exclude_flagged:  # a standing reaction is its add event: flagged or not
        clauses.append(is_kept(f"{alias}.event_id"))
    article = article_predicate(f)
    if article.sql != "TRUE":
        clauses.append(
            f"{alias}.article_id IN (SELECT article_id FROM articles a WHERE {article.sql})"
        )
        params.extend(article.params)
    return Predicate(" AND ".join(clauses) or "TRUE", params)


def range_predicate(column: str, start: datetime | None, end: datetime | None) -> Predicate:
    """`column` in [start, end), either bound open when None; `column` is the caller's
    constant."""
    clauses: list[str] = []
    params: list[object] = []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(end)
    return Predicate(" AND ".join(clauses) or "TRUE", params)


def view_predicate(
    f: Filters,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    alias: str = "v",
    time_column: str = "bucket",
) -> Predicate:
    """Views in the filter — the denominator of its rates: its range and the articles it
    picks, over `view_counts` (alias v, by quarter hour) by default. Kinds and integrity
    flags do not apply: any view could have become any reaction, and views are not flagged."""
    return reaction_predicate(
        replace(f, kinds=(), exclude_flagged=False),
        start=start,
        end=end,
        alias=alias,
        time_column=time_column,
    )


def article_predicate(f: Filters) -> Predicate:
    """Articles (alias a) matching topic, author, tag and title search."""
    clauses: list[str] = []
    params: list[object] = []
    for column, values in (("a.topic", f.topics), ("a.author", f.authors)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if f.tags:
        clauses.append("list_has_any(a.tags, ?::VARCHAR[])")
        params.append(list(f.tags))
    if f.search:
        clauses.append("contains(lower(a.title), lower(?))")
        params.append(f.search)
    return Predicate(" AND ".join(clauses) or "TRUE", params)
