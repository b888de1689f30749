"""Small formatting helpers shared by the pages (numbers, deltas, local times)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from reactions.metrics.stats import change


def delta(current: float | None, previous: float | None, *, points: bool = False) -> str | None:
    """A KPI's change text: relative change, or absolute for sentiment (points)."""
    if current is None or previous is None:
        return None
    if points:
        return f"{current - previous:+.2f}"
    rel = change(current, previous)
    return None if rel is None else f"{rel:+.1%}"


def sentiment(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def rate_text(value: float | None) -> str:
    """Reactions per 100 views; "–" without views."""
    return "–" if value is None else f"{value:.2f}"


def local(ts: datetime | pd.Timestamp | None, tz: str) -> pd.Timestamp | None:
    """A naive UTC timestamp as naive local time in `tz` (for display columns)."""
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_localize("UTC").tz_convert(ZoneInfo(tz)).tz_localize(None)


def local_column(values: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def sentence(text: str) -> str:
    """First letter upper case, the rest untouched ("all time" → "All time")."""
    return text[:1].upper() + text[1:]
