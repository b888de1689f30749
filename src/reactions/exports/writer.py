"""Writing a dataset (`datasets`) to a file or stream with DuckDB COPY, and its manifest.

Every format goes through COPY (`copy_out`: streamed through a pipe and hashed on the way, with
DuckDB's progress), so memory stays flat at any size and every CSV has one
dialect: RFC 4180, UTF-8, a header row, CRLF line ends, ISO 8601 timestamps. Text cells that
a spreadsheet would run as a formula (starting with = + - @, tab or CR — article titles and
tags come from outside) get a leading apostrophe; numbers stay numbers. Parquet keeps types
and text as it is.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd

from reactions import __version__
from reactions.clock import utc_now
from reactions.errors import InvalidInput
from reactions.exports.copy_out import ProgressFn, copy_query
from reactions.exports.datasets import (
    DATASETS,
    TIMESERIES_COLUMNS,
    Column,
    articles_columns,
    articles_frame,
    dataset_kinds,
    timeseries_frame,
)
from reactions.exports.dialect import (
    COPY_OPTIONS,
    CSV_DIALECT,
    CSV_LINES,
    FORMATS,
    FORMULA_RULE,
    safe_text_sql,
)
from reactions.exports.events import EVENTS_COLUMNS, events_csv_query, events_query
from reactions.metrics.filters import Filters
from reactions.metrics.overview import effective
from reactions.metrics.predicates import reaction_predicate

# Up to this many events an export is sorted by event_id (the same bytes on every run).
# Beyond, sorting would hold the rows in memory and write on one thread: blocks stream as
# they come instead, on every thread, with flat memory.
ORDERED_UP_TO = 1_000_000
UNORDERED_EVENTS = (
    f"over {ORDERED_UP_TO:,} events: written in parallel blocks, so sort by event_id "
    "for the log's order"
)
ROW_ORDER = {
    "events": "by event_id (the log's order)",
    "articles": "most reactions first, then article_id",
    "timeseries": "by bucket_start, then the kinds' display order",
}


@dataclass(frozen=True)
class Exported:
    rows: int
    sha256: str  # of the data file's bytes
    manifest: dict[str, Any]


def check_choice(dataset: str, fmt: str) -> None:
    if dataset not in DATASETS:
        raise InvalidInput(f"unknown dataset {dataset[:40]!r}; use one of {', '.join(DATASETS)}")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt[:20]!r}; use one of {', '.join(FORMATS)}")


def export_dataset(
    cur: duckdb.DuckDBPyConnection,
    dataset: str,
    f: Filters,
    target: Path | BinaryIO,
    *,
    fmt: str = "csv",
    progress: ProgressFn | None = None,
) -> Exported:
    """Write `dataset` under `f` to `target` (a path, or a binary stream such as stdout)."""
    check_choice(dataset, fmt)
    columns = columns_for(cur, dataset, f)
    if dataset == "events":
        query = effective(cur, f)
        ordered = _events_fit_in_order(cur, query)
        events, options = (
            (events_csv_query, CSV_LINES) if fmt == "csv" else (events_query, COPY_OPTIONS[fmt])
        )
        sql, params = events(cur, query, ordered=ordered)
        rows, digest = copy_query(cur, sql, params, target, options, progress)
        order = ROW_ORDER["events"] if ordered else UNORDERED_EVENTS
    else:
        frame = articles_frame(cur, f) if dataset == "articles" else timeseries_frame(cur, f)
        cur.register("_dataset", frame)
        try:
            sql = _select("SELECT * FROM _dataset", columns, fmt)
            rows, digest = copy_query(cur, sql, [], target, COPY_OPTIONS[fmt], progress)
        finally:
            cur.unregister("_dataset")
        order = ROW_ORDER[dataset]
    return Exported(rows, digest, manifest(dataset, f, fmt, columns, rows, digest, order))


def export_frame(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, target: BinaryIO) -> int:
    """A table as the dashboard shows it, in the same CSV dialect (text columns made
    formula-safe); for download buttons beside tables that are not one of the datasets."""
    columns = tuple(
        Column(str(name), "text" if _is_text(frame[name]) else "value", "")
        for name in frame.columns
    )
    cur.register("_shown", frame)
    try:
        sql = _select("SELECT * FROM _shown", columns, "csv")
        return copy_query(cur, sql, [], target, COPY_OPTIONS["csv"], None)[0]
    finally:
        cur.unregister("_shown")


def _events_fit_in_order(cur: duckdb.DuckDBPyConnection, f: Filters) -> bool:
    """Whether the export holds at most ORDERED_UP_TO events. The log's size is known for
    free; only a filter that narrows a large log costs a count."""
    total = int(cur.execute("SELECT count(*) FROM reaction_events").fetchall()[0][0])
    if total <= ORDERED_UP_TO:
        return True
    if f.start is None and not (f.kinds or f.topics or f.authors or f.tags or f.search):
        return False  # the whole log
    where = reaction_predicate(f, alias="e", time_column="occurred_at")
    count = f"SELECT count(*) FROM reaction_events e WHERE {where.sql}"
    return int(cur.execute(count, where.params).fetchall()[0][0]) <= ORDERED_UP_TO


def _is_text(column: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(column) or column.dtype == object)


def _safe_text(column: str) -> str:
    quoted = f'"{column}"'
    return f"{safe_text_sql(quoted)} AS {quoted}"


def _select(sql: str, columns: tuple[Column, ...], fmt: str) -> str:
    """The dataset's columns in order; text made formula-safe for CSV."""
    names = [
        _safe_text(c.name) if fmt == "csv" and c.type == "text" else f'"{c.name}"' for c in columns
    ]
    return f"SELECT {', '.join(names)} FROM ({sql})"


def manifest(
    dataset: str,
    f: Filters,
    fmt: str,
    columns: tuple[Column, ...],
    rows: int,
    sha256: str,
    row_order: str,
) -> dict[str, Any]:
    """What travels with an export: enough to say exactly what it holds and to check it."""
    lo, hi = f.utc_bounds()
    previous = f.previous()
    return {
        "dataset": dataset,
        "format": fmt,
        "generated_at_utc": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "package_version": __version__,
        "rows": rows,
        "sha256": sha256,
        "filters": {
            "range": f.describe_range(),
            "from_utc": lo.isoformat() + "Z" if lo else None,
            "to_utc_exclusive": hi.isoformat() + "Z" if hi else None,
            "topics": list(f.topics),
            "authors": list(f.authors),
            "tags": list(f.tags),
            "kinds": list(f.kinds),
            "title_search": f.search,
            "query": f.to_query(),
        },
        "timezone": f.tz,
        "interval": f.interval,
        "comparison": None
        if previous is None
        else {"from": str(previous.start), "to": str(previous.end), "timezone": f.tz},
        "flagged_events": (
            "excluded: events integrity flagged and no editor dismissed are left out"
            if f.exclude_flagged
            else "included: the raw counts"
        ),
        "row_order": row_order,
        "counting": (
            "events: every add and remove in the range. articles and timeseries: standing "
            "reactions (added in the range and not undone or switched away), as the dashboard"
        ),
        "csv": {"dialect": CSV_DIALECT, "formula_safety": FORMULA_RULE} if fmt == "csv" else None,
        "columns": [{"name": c.name, "type": c.type, "meaning": c.meaning} for c in columns],
    }


def file_name(dataset: str, f: Filters, fmt: str) -> str:
    """What is inside, in the name: reactions-articles-politics-2026-11-01_2026-11-07.csv."""
    parts = ["reactions", dataset]
    for values in (f.topics, f.authors, f.tags, f.kinds):
        parts += [_slug(v) for v in values[:3]]
    if f.search:
        parts.append("q-" + _slug(f.search))
    parts.append(f"{f.start}_{f.end}" if f.start and f.end else "all-time")
    if dataset == "timeseries":
        parts.append(f.interval)
    return "-".join(p for p in parts if p)[:180] + f".{fmt}"


def _slug(text: str) -> str:
    return "-".join("".join(ch.lower() if ch.isalnum() else " " for ch in text).split())[:40]


def stdout_binary() -> BinaryIO:
    return sys.stdout.buffer


def columns_for(cur: duckdb.DuckDBPyConnection, dataset: str, f: Filters) -> tuple[Column, ...]:
    if dataset == "events":
        return EVENTS_COLUMNS
    if dataset == "articles":
        return articles_columns(dataset_kinds(cur, f))
    return TIMESERIES_COLUMNS
