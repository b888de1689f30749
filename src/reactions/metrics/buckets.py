"""The time buckets of a filter's range: every hour, day or week in the editor's timezone, so a
chart or a time series shows an empty bucket as zero instead of drawing a line across it.

A bounded range runs from its first local day to its last (or to now, if that is sooner). All
time starts at the first bucket holding data — a range has to start somewhere, and the
pages say where — and runs to now. No Streamlit, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pandas as pd

from reactions.clock import utc_now
from reactions.metrics.filters import Filters

STEP = {"hour": "h", "day": "D", "week": "7D"}


def bucket_grid(f: Filters, with_data: Iterable[pd.Series]) -> pd.DatetimeIndex:
    """Every bucket of `f`'s range, in local wall time. `with_data`: the buckets that hold
    something (reactions, views), which start an all-time range and may run past now."""
    present = [pd.Timestamp(b) for s in with_data if len(s) for b in (s.min(), s.max())]
    now = local_now(f)
    if f.start is None or f.end is None:
        if not present:
            return pd.DatetimeIndex([])
        first, last = min(present), max([floor(now, f.interval), *present])
    else:
        first = floor(pd.Timestamp(f.start), f.interval)
        end = pd.Timestamp(f.end) + timedelta(days=1) - pd.Timedelta(microseconds=1)
        last = max([floor(min(end, max(now, first)), f.interval), *present])
    return pd.date_range(first, last, freq=STEP[f.interval])


def local_now(f: Filters) -> pd.Timestamp:
    return pd.Timestamp(utc_now()).tz_localize("UTC").tz_convert(f.zone.key).tz_localize(None)


def floor(moment: pd.Timestamp, interval: str) -> pd.Timestamp:
    return pd.Timestamp(floor_all(pd.Series([moment]), interval).iloc[0])


def floor_all(moments: pd.Series, interval: str) -> pd.Series:
    """Bucket starts as DuckDB's date_trunc makes them (weeks start on Monday)."""
    if interval == "hour":
        return pd.Series(moments.dt.floor("h"))
    days = pd.Series(moments.dt.floor("D"))
    if interval == "week":
        days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days


def zero_filled(long: pd.DataFrame, grid: pd.DatetimeIndex, value: str) -> pd.DataFrame:
    """`long` (bucket, kind_id, `value`: a GROUP BY's rows) → bucket × kind_id over `grid`,
    zeros where nothing happened, wide: one column per kind present."""
    if long.empty:
        return pd.DataFrame(index=grid.rename("bucket"))
    wide = long.set_index(["bucket", "kind_id"])[value].unstack(fill_value=0)
    return wide.reindex(grid, fill_value=0).rename_axis("bucket")
