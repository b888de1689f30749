"""Mood alerts: an article whose share of one kind (say angry) over the last hour rose beyond
what its own earlier reactions make plausible — the low end of the recent share's 95 %
interval above the high end of the earlier one. Editors hear about a shift in mood, not
about every reaction. Standing reactions, flagged events left out, like every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from reactions.config import Settings
from reactions.filters import EXCLUDE_FLAGGED
from reactions.stats import wilson_interval


@dataclass(frozen=True)
class AlertRule:
    kind: str
    window: timedelta
    min_reactions: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertRule:
        return cls(
            settings.alert_kind,
            timedelta(hours=settings.alert_window_hours),
            settings.alert_min_reactions,
        )


def mood_alerts(cur: duckdb.DuckDBPyConnection, rule: AlertRule, now: datetime) -> pd.DataFrame:
    """article_id, title, recent (reactions in the window), recent_share, before (reactions
    before it), before_share — for each article whose share of rule.kind jumped."""
    start = now - rule.window
    counts = cur.execute(
        f"""
        SELECT c.article_id, a.title,
               count(*) FILTER (WHERE c.added_at >= ?) AS recent,
               count(*) FILTER (WHERE c.added_at >= ? AND c.kind_id = ?) AS recent_kind,
               count(*) FILTER (WHERE c.added_at < ?) AS before,
               count(*) FILTER (WHERE c.added_at < ? AND c.kind_id = ?) AS before_kind
        FROM current_reactions c JOIN articles a USING (article_id)
        WHERE c.added_at < ? AND {EXCLUDE_FLAGGED.format(event="c.event_id")}
          AND c.article_id IN (
              SELECT article_id FROM current_reactions WHERE added_at >= ? AND added_at < ?
          )
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE c.added_at >= ?) >= ?
        """,
        [
            start,
            start,
            rule.kind,
            start,
            start,
            rule.kind,
            now,
            start,
            now,
            start,
            rule.min_reactions,
        ],
    ).df()
    if counts.empty:
        return counts.assign(recent_share=[], before_share=[])
    recent_low, _ = wilson_interval(counts["recent_kind"], counts["recent"])
    _, before_high = wilson_interval(counts["before_kind"], counts["before"])
    jumped = counts[(recent_low > before_high) & (counts["before"] > 0)].copy()
    jumped["recent_share"] = jumped["recent_kind"] / jumped["recent"]
    jumped["before_share"] = jumped["before_kind"] / jumped["before"]
    return jumped.sort_values("recent_share", ascending=False)[
        ["article_id", "title", "recent", "recent_share", "before", "before_share"]
    ].reset_index(drop=True)
