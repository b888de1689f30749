"""Detecting inflated reactions: bursts from one network, toggle storms, hyperactive readers.
Pure SQL over the event log, no Streamlit. Every flag names its rule, a reason a person can
read, a severity and the exact events it covers; nothing is excluded here — the editor
decides (the Integrity page, next).

Each rule measures, for every event, how dense its neighbourhood is — events of the same
network on the same article, of the same reader on the same article, of the same reader
anywhere — within a window around it. "Far above normal" is robust: the larger of a floor
and the median plus ten scaled MADs of that density over all events, so one viral story does
not move the bar and an ordinary busy reader stays under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from reactions.store import Store

MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data
SPREAD = 10  # how many scaled MADs above the median is "far above normal"


@dataclass(frozen=True)
class Rule:
    name: str
    partition: str  # the events a density counts together
    window_minutes: int  # ± around each event
    floor: int  # never flag below this density
    actions: str  # which events count
    what: str  # for the reason

    @property
    def keys(self) -> list[str]:
        """What one flag covers: the partition's columns; the last is its subject."""
        return [column.strip() for column in self.partition.split(",")]


RULES = (  # the most specific first: an event belongs to the first rule that flags it
    Rule(
        "toggle_storm",
        "article_id, reader_hash",
        10,
        10,
        "'add', 'remove'",
        "taps by one reader on one article",
    ),
    Rule(
        "hyperactive_reader",
        "reader_hash",
        30,
        20,
        "'add'",
        "reactions by one reader across articles",
    ),
    Rule(
        "network_burst",
        "article_id, network_hash",
        5,
        20,
        "'add'",
        "reactions on one article from one network",
    ),
)


def _hot_sql(rule: Rule) -> str:
    """Events whose density — how many events share the rule's partition within the window
    around them — is far above normal, with the threshold and the median. All in SQL, so
    only the few hot events leave the database. Rules are ours: nothing here is input."""
    not_null = " AND ".join(f"{c.strip()} IS NOT NULL" for c in rule.partition.split(","))
    return f"""
        WITH d AS MATERIALIZED (
            SELECT event_id, article_id, reader_hash, network_hash, kind_id, action,
                   occurred_at,
                   count(*) OVER (
                       PARTITION BY {rule.partition} ORDER BY occurred_at
                       RANGE BETWEEN INTERVAL {rule.window_minutes} MINUTE PRECEDING
                                 AND INTERVAL {rule.window_minutes} MINUTE FOLLOWING
                   ) AS density
            FROM reaction_events
            WHERE action IN ({rule.actions}) AND {not_null}
        ),
        typical AS (SELECT median(density) AS median FROM d),
        spread AS (SELECT median(abs(density - median)) AS mad FROM d, typical),
        bar AS (
            SELECT median, greatest({rule.floor}, median + {SPREAD * MAD_SCALE} * mad) AS threshold
            FROM typical, spread
        )
        SELECT d.*, bar.threshold, bar.median FROM d, bar WHERE d.density >= bar.threshold
        ORDER BY d.event_id
    """


# Bursts of one kind on one article, whoever sends them: the kind's density around each add
# against the same topic's usual density for that kind, and only where that kind is nearly
# all of the article's reactions in the window (a story going viral brings every kind).
KIND_BURST = Rule(
    "kind_burst",
    "article_id, kind_id",
    5,
    30,
    "'add'",
    "reactions of one kind on one article in its topic",
)
ONE_KIND_SHARE = 0.8

_KIND_BURST_SQL = f"""
    WITH d AS MATERIALIZED (
        SELECT e.event_id, e.article_id, e.reader_hash, e.network_hash, e.kind_id, e.action,
               e.occurred_at, a.topic,
               count(*) OVER (
                   PARTITION BY e.article_id, e.kind_id ORDER BY e.occurred_at
                   RANGE BETWEEN INTERVAL 5 MINUTE PRECEDING AND INTERVAL 5 MINUTE FOLLOWING
               ) AS density,
               count(*) OVER (
                   PARTITION BY e.article_id ORDER BY e.occurred_at
                   RANGE BETWEEN INTERVAL 5 MINUTE PRECEDING AND INTERVAL 5 MINUTE FOLLOWING
               ) AS everything
        FROM reaction_events e JOIN articles a USING (article_id)
        WHERE e.action = 'add'
    ),
    typical AS (
        SELECT topic, kind_id, median(density) AS median FROM d GROUP BY ALL
    ),
    spread AS (
        SELECT topic, kind_id, median(abs(d.density - t.median)) AS mad
        FROM d JOIN typical t USING (topic, kind_id) GROUP BY ALL
    ),
    bar AS (
        SELECT topic, kind_id, median,
               greatest({KIND_BURST.floor}, median + {SPREAD * MAD_SCALE} * mad) AS threshold
        FROM typical JOIN spread USING (topic, kind_id)
    )
    SELECT d.* EXCLUDE (topic, everything), bar.threshold, bar.median
    FROM d JOIN bar USING (topic, kind_id)
    WHERE d.density >= bar.threshold AND d.density >= {ONE_KIND_SHARE} * d.everything
    ORDER BY d.event_id
"""


def detect(cur: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flags, flagged events). flags: flag_id, rule, article_id (None across articles),
    subject (the network or reader hash), first_at, last_at, events, readers, kind (the most
    common), severity, threshold, reason. flagged events: event_id, flag_id — an event belongs
    to the first rule that flags it, in RULES order."""
    flags: list[pd.DataFrame] = []
    events: list[pd.DataFrame] = []
    taken = pd.Index([], dtype="int64")
    for rule in (*RULES, KIND_BURST):
        sql = _KIND_BURST_SQL if rule is KIND_BURST else _hot_sql(rule)
        hot = cur.execute(sql).df()
        hot = hot[~hot["event_id"].isin(taken)]
        if hot.empty:
            continue
        for key, group in hot.groupby(rule.keys, sort=True):
            # stable across scans while the burst lasts: its rule, subject and first event
            flag_id = f"{rule.name[:6]}-{int(group['event_id'].min())}"
            flags.append(_flag(rule, flag_id, key, group))
            events.append(pd.DataFrame({"event_id": group["event_id"], "flag_id": flag_id}))
        taken = taken.union(pd.Index(hot["event_id"]))
    if not flags:
        return _empty_flags(), pd.DataFrame({"event_id": [], "flag_id": []})
    return pd.concat(flags, ignore_index=True), pd.concat(events, ignore_index=True)


def _flag(rule: Rule, flag_id: str, key: object, group: pd.DataFrame) -> pd.DataFrame:
    values = dict(zip(rule.keys, key if isinstance(key, tuple) else (key,), strict=True))
    threshold, median = float(group["threshold"].iloc[0]), float(group["median"].iloc[0])
    first, last = group["occurred_at"].min(), group["occurred_at"].max()
    minutes = max(1, round((last - first).total_seconds() / 60))
    readers = int(group["reader_hash"].nunique())
    kind = str(group["kind_id"].mode().iloc[0])
    articles = int(group["article_id"].nunique())
    peak = int(group["density"].max())
    where = "on one article" if articles == 1 else f"on {articles} articles"
    reason = (
        f"{len(group)} {kind} {'taps' if 'remove' in rule.actions else 'reactions'} in "
        f"{minutes} minute{'s' if minutes != 1 else ''} from {readers} "
        f"reader{'s' if readers != 1 else ''} {where}; "
        f"normal for {rule.what} within ±{rule.window_minutes} min: {median:.0f} "
        f"(flagged from {threshold:.0f})"
    )
    return pd.DataFrame(
        {
            "flag_id": [flag_id],
            "rule": [rule.name],
            "article_id": [values.get("article_id")],
            "subject": [values[rule.keys[-1]]],
            "first_at": [first],
            "last_at": [last],
            "events": [len(group)],
            "readers": [readers],
            "kind": [kind],
            "severity": ["high" if peak >= 5 * threshold else "medium"],
            "threshold": [threshold],
            "reason": [reason],
        }
    )


def _empty_flags() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "flag_id",
            "rule",
            "article_id",
            "subject",
            "first_at",
            "last_at",
            "events",
            "readers",
            "kind",
            "severity",
            "threshold",
            "reason",
        ]
    )


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


def scan(store: Store) -> pd.DataFrame:
    """Detect over the whole log and store the result (replacing the last scan's flags;
    editors' decisions stay, attached to the stable flag ids). Returns the flags."""
    flags, flagged = detect(store.cursor())
    store.replace_flags(flags, flagged)
    return flags


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
