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
from reactions.metrics.filters import Filters
from reactions.metrics.overview import effective
from reactions.metrics.rollup import standing_counts
from reactions.metrics.stats import wilson_interval


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
    every = effective(cur, Filters(preset="all", exclude_flagged=True))
    recent, before = standing_counts(every, (start, now)), standing_counts(every, (None, start))
    counts = cur.execute(
        f"""
        WITH recent AS (
            SELECT s.article_id, sum(s.reactions)::BIGINT AS recent,
                   coalesce(sum(s.reactions) FILTER (WHERE s.kind_id = ?), 0)::BIGINT AS recent_kind
            FROM ({recent.sql}) s GROUP BY 1 HAVING sum(s.reactions) >= ?
        ),
        before AS (
            SELECT s.article_id, sum(s.reactions)::BIGINT AS before,
                   coalesce(sum(s.reactions) FILTER (WHERE s.kind_id = ?), 0)::BIGINT AS before_kind
            FROM ({before.sql}) s SEMI JOIN recent USING (article_id) GROUP BY 1
        )
        SELECT r.article_id, a.title, r.recent, r.recent_kind,
               coalesce(b.before, 0) AS before, coalesce(b.before_kind, 0) AS before_kind
        FROM recent r JOIN articles a USING (article_id) LEFT JOIN before b USING (article_id)
        """,
        [rule.kind, *recent.params, rule.min_reactions, rule.kind, *before.params],
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
