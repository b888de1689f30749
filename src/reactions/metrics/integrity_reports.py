"""What integrity found, for people: stored flags with their editors' status, a flag's exact
events, the activity around a burst, the exclusion log, and how well detection does against
the generator's planted bursts. Detecting is integrity.py."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Quality:
    planted: int
    planted_found: int
    organic: int
    organic_flagged: int

    @property
    def recall(self) -> float:
        return self.planted_found / self.planted if self.planted else 1.0

    @property
    def organic_rate(self) -> float:
        return self.organic_flagged / self.organic if self.organic else 0.0

    @property
    def precision(self) -> float:
        flagged = self.planted_found + self.organic_flagged
        return self.planted_found / flagged if flagged else 1.0


def quality(cur: duckdb.DuckDBPyConnection, flagged: pd.DataFrame) -> Quality:
    """Detection against the generator's ground truth (synthetic_labels)."""
    cur.register("_flagged", flagged[["event_id"]])
    try:
        planted, found, organic, wrong = cur.execute(
            """
            SELECT count(*) FILTER (WHERE l.event_id IS NOT NULL),
                   count(*) FILTER (WHERE l.event_id IS NOT NULL AND f.event_id IS NOT NULL),
                   count(*) FILTER (WHERE l.event_id IS NULL),
                   count(*) FILTER (WHERE l.event_id IS NULL AND f.event_id IS NOT NULL)
            FROM reaction_events e
            LEFT JOIN synthetic_labels l USING (event_id)
            LEFT JOIN _flagged f USING (event_id)
            """
        ).fetchall()[0]
    finally:
        cur.unregister("_flagged")
    return Quality(int(planted), int(found), int(organic), int(wrong))


def flags_with_status(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored flags, most severe and largest first, with the article's title and the latest
    decision (status: undecided / confirmed / dismissed, by whom, when, why)."""
    return cur.execute(
        """
        WITH latest AS (
            SELECT flag_id, arg_max(decision, decided_at) AS decision,
                   arg_max(decided_by, decided_at) AS decided_by,
                   max(decided_at) AS decided_at, arg_max(why, decided_at) AS why
            FROM integrity_decisions GROUP BY flag_id
        )
        SELECT f.flag_id, f.severity, f.rule, f.article_id, a.title, f.reason, f.events,
               f.readers, f.kind, f.first_at, f.last_at,
               CASE l.decision WHEN 'confirm' THEN 'confirmed' WHEN 'dismiss' THEN 'dismissed'
                    ELSE 'undecided' END AS status,
               l.decided_by, l.decided_at, l.why
        FROM integrity_flags f
        LEFT JOIN articles a USING (article_id)
        LEFT JOIN latest l USING (flag_id)
        ORDER BY f.severity = 'high' DESC, f.events DESC, f.flag_id
        """
    ).df()


def flag_events(cur: duckdb.DuckDBPyConnection, flag_id: str) -> pd.DataFrame:
    """The exact events a flag covers."""
    return cur.execute(
        """
        SELECT e.event_id, e.occurred_at, e.article_id, e.reader_hash, e.kind_id, e.action,
               e.network_hash
        FROM flagged_events f JOIN reaction_events e USING (event_id)
        WHERE f.flag_id = ? ORDER BY e.event_id
        """,
        [flag_id],
    ).df()


def activity_around(
    cur: duckdb.DuckDBPyConnection, article_id: str, first: object, last: object
) -> pd.DataFrame:
    """bucket (5 minutes, UTC), kind_id, reactions: every add on the article from two hours
    before a flagged burst to two hours after it, flagged or not."""
    return cur.execute(
        """
        SELECT time_bucket(INTERVAL 5 MINUTE, occurred_at) AS bucket, kind_id,
               count(*) AS reactions
        FROM reaction_events
        WHERE article_id = ? AND action = 'add'
          AND occurred_at BETWEEN ? - INTERVAL 2 HOUR AND ? + INTERVAL 2 HOUR
        GROUP BY ALL ORDER BY 1
        """,
        [article_id, first, last],
    ).df()


def exclusion_log(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every decision on every flag (and flags nobody decided on), oldest first."""
    return cur.execute(
        """
        SELECT f.flag_id, f.rule, f.article_id, f.reason, f.events, f.first_at, f.last_at,
               d.decision, d.decided_by, d.decided_at, d.why
        FROM integrity_flags f LEFT JOIN integrity_decisions d USING (flag_id)
        ORDER BY d.decided_at NULLS FIRST, f.flag_id
        """
    ).df()
