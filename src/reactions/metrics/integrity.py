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

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from reactions.store.schema import INTEGRITY_FLAG_COLUMNS

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
# Every rule in the order events are claimed: an event belongs to the first that flags it.
ALL_RULES = (*RULES, KIND_BURST)
# A scan of recent events reads this far before the first new one: a new event's density
# counts neighbours up to a window away on either side.
CONTEXT_MINUTES = 2 * max(rule.window_minutes for rule in ALL_RULES)


def _densities_sql(rule: Rule, *, since: bool, candidates: bool = False) -> str:
    """The CTE `d`: each event the rule looks at with its density — how many events share
    the rule's partition within ±window of it — and the key of the bar it is held to
    (bar_topic, bar_kind: the topic and kind for the kind rule, whose normal pace differs by
    both; NULL for the others). The kind rule also counts every kind on the article then
    (`everything`). With `since`, only events from a bound time on. With `candidates`, only
    events that could be hot: a density never exceeds its partition's count, and no bar is
    below the rule's floor, so partitions with fewer events in all are left out before the
    windows sort anything (most readers tap an article once or twice). Rules are ours:
    nothing here is input."""
    w = rule.window_minutes
    window = (
        f"ORDER BY e.occurred_at RANGE BETWEEN INTERVAL {w} MINUTE PRECEDING "
        f"AND INTERVAL {w} MINUTE FOLLOWING"
    )
    recent = "AND e.occurred_at >= ?" if since else ""
    if rule is KIND_BURST:
        keyed = "a.topic AS bar_topic, e.kind_id AS bar_kind"
        everything = f"count(*) OVER (PARTITION BY e.article_id {window})"
        source = "reaction_events e JOIN articles a USING (article_id)"
        not_null = "TRUE"
        # `everything` counts the whole article: only whole articles may be left out
        coarsest = ["article_id"]
    else:
        keyed = "NULL::VARCHAR AS bar_topic, NULL::VARCHAR AS bar_kind"
        everything = "0"
        source = "reaction_events e"
        not_null = " AND ".join(f"e.{c} IS NOT NULL" for c in rule.keys)
        coarsest = rule.keys
    if candidates:
        keys = ", ".join(coarsest)
        source += f"""
            SEMI JOIN (
                SELECT {keys} FROM reaction_events e WHERE e.action IN ({rule.actions})
                GROUP BY ALL HAVING count(*) >= {rule.floor}
            ) USING ({keys})"""
    partition = ", ".join(f"e.{c}" for c in rule.keys)
    return f"""
        d AS (
            SELECT e.event_id, e.article_id, e.reader_hash, e.network_hash, e.kind_id,
                   e.action, e.occurred_at,
                   count(*) OVER (PARTITION BY {partition} {window}) AS density,
                   {everything} AS everything, {keyed}
            FROM {source}
            WHERE e.action IN ({rule.actions}) AND {not_null} {recent}
        )"""


# An event's bar is the one with its key (NULL keys match: one bar for a whole rule).
_SAME_BAR = (
    "b.bar_topic IS NOT DISTINCT FROM d.bar_topic AND b.bar_kind IS NOT DISTINCT FROM d.bar_kind"
)


def _hot(rule: Rule, threshold: str) -> str:
    """Which events of `d` are hot against their bar's `threshold` (a column); the kind rule
    only where that kind is nearly all of the article's reactions in the window (a story
    going viral brings every kind)."""
    hot = f"d.density >= {threshold}"
    if rule is KIND_BURST:
        hot += f" AND d.density >= {ONE_KIND_SHARE} * d.everything"
    return hot


def _histogram_sql(rule: Rule) -> str:
    """How many events have each density, per bar: all a bar needs (the median and the MAD
    of the density over every event the rule looks at). Streamed into a few hundred rows —
    materializing each event's density instead spilled 37 GB at 100M events."""
    return f"""
        WITH {_densities_sql(rule, since=False)}
        SELECT bar_topic, bar_kind, density, count(*) AS events FROM d GROUP BY ALL
    """


def _hot_sql(rule: Rule) -> str:
    """Every hot event of the whole log, against the bars in `scan_bars` (registered)."""
    return f"""
        WITH {_densities_sql(rule, since=False, candidates=True)}
        SELECT d.* EXCLUDE (everything), b.threshold, b.median
        FROM d JOIN scan_bars b ON {_SAME_BAR} WHERE {_hot(rule, "b.threshold")}
        ORDER BY d.event_id
    """


def _bars(rule: Rule, histogram: pd.DataFrame) -> pd.DataFrame:
    """Each bar's median density and threshold: "far above normal" is the larger of the
    rule's floor and the median plus SPREAD scaled MADs of the density. Medians as DuckDB's
    `median` takes them (the mean of the two middle values of an even count)."""
    rows = []
    for (topic, kind), group in histogram.groupby(["bar_topic", "bar_kind"], dropna=False):
        density = group["density"].to_numpy(dtype=float)
        events = group["events"].to_numpy(dtype="int64")
        median = _weighted_median(density, events)
        spread = _weighted_median(np.abs(density - median), events)
        rows.append(
            {
                "bar_topic": _key_text(topic),
                "bar_kind": _key_text(kind),
                "median": median,
                "threshold": max(float(rule.floor), median + SPREAD * MAD_SCALE * spread),
            }
        )
    return pd.DataFrame(rows, columns=["bar_topic", "bar_kind", "median", "threshold"])


def _key_text(key: Hashable) -> str | None:
    """A bar key back from pandas' grouping, which gives a NULL key as NaN."""
    return None if key is None or (isinstance(key, float) and math.isnan(key)) else str(key)


def _weighted_median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of `values`, each repeated `counts` times."""
    order = np.argsort(values, kind="stable")
    values, ends = values[order], np.cumsum(counts[order])
    total = int(ends[-1])
    low = values[np.searchsorted(ends, (total - 1) // 2, side="right")]
    high = values[np.searchsorted(ends, total // 2, side="right")]
    return float((low + high) / 2)


def _recent_sql(rule: Rule) -> str:
    """Hot events from a bound time on (params: the context's start, the rule, the
    candidates' start), held to the bars the last full scan stored; a topic or kind that
    scan never saw gets the rule's floor."""
    return f"""
        WITH {_densities_sql(rule, since=True)},
        stored AS (
            SELECT topic AS bar_topic, kind_id AS bar_kind, median, threshold
            FROM integrity_baselines WHERE rule = ?
        ),
        held AS (
            SELECT d.*, coalesce(b.threshold, {rule.floor}) AS threshold,
                   coalesce(b.median, 0) AS median
            FROM d LEFT JOIN stored b ON {_SAME_BAR}
        )
        SELECT d.* EXCLUDE (everything) FROM held d
        WHERE d.occurred_at >= ? AND {_hot(rule, "d.threshold")}
        ORDER BY d.event_id
    """


@dataclass(frozen=True)
class Detection:
    flags: pd.DataFrame  # see `detect`
    flagged: pd.DataFrame  # event_id, flag_id
    baselines: pd.DataFrame  # rule, topic, kind_id, median, threshold (full scans only)


def detect(cur: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flags, flagged events) over the whole log. flags: flag_id, rule, article_id (None
    across articles), subject (the network or reader hash), first_at, last_at, events,
    readers, kind (the most common), severity, threshold, reason. flagged events: event_id,
    flag_id — an event belongs to the first rule that flags it, in ALL_RULES order."""
    found = detect_all(cur)
    return found.flags, found.flagged


def detect_all(cur: duckdb.DuckDBPyConnection) -> Detection:
    """`detect`, with the bars each rule measured (what scans of recent events compare to).
    Two passes a rule: the density histogram gives the bars; then only the events that
    could cross them are windowed again and held to them."""
    hot: dict[Rule, pd.DataFrame] = {}
    bars: list[pd.DataFrame] = []
    for rule in ALL_RULES:
        bar = _bars(rule, cur.execute(_histogram_sql(rule)).df())
        cur.register("scan_bars", bar)
        try:
            hot[rule] = cur.execute(_hot_sql(rule)).df().astype({"event_id": "int64"})
        finally:
            cur.unregister("scan_bars")
        bars.append(bar.rename(columns={"bar_topic": "topic", "bar_kind": "kind_id"}))
        bars[-1].insert(0, "rule", rule.name)
    flags, flagged = group_flags(hot, taken=pd.Index([], dtype="int64"))
    return Detection(flags, flagged, pd.concat(bars, ignore_index=True))


def detect_recent(
    cur: duckdb.DuckDBPyConnection, since: datetime, taken: pd.Index
) -> dict[Rule, pd.DataFrame]:
    """Per rule, the hot events that happened from `since` on and no flag holds yet (`taken`),
    against the stored bars: a scan of recent events reads only them and their context."""
    context = since - timedelta(minutes=CONTEXT_MINUTES)
    hot: dict[Rule, pd.DataFrame] = {}
    for rule in ALL_RULES:
        rows = cur.execute(_recent_sql(rule), [context, rule.name, since]).df()
        hot[rule] = rows[~rows["event_id"].isin(taken)]
        taken = taken.union(pd.Index(hot[rule]["event_id"]))
    return hot


def group_flags(
    hot: dict[Rule, pd.DataFrame], taken: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hot events per rule → (flags, flagged events): one flag per rule and key (reader,
    network, or article and kind); an event goes to the first rule that claims it."""
    flags: list[pd.DataFrame] = []
    events: list[pd.DataFrame] = []
    for rule in ALL_RULES:
        rows = hot.get(rule)
        if rows is None:
            continue
        rows = rows[~rows["event_id"].isin(taken)]
        if rows.empty:
            continue
        for key, group in rows.groupby(rule.keys, sort=True):
            # stable across scans while the burst lasts: its rule, subject and first event
            flag_id = f"{rule.name[:6]}-{int(group['event_id'].min())}"
            flags.append(flag_row(rule, flag_id, key, group))
            events.append(pd.DataFrame({"event_id": group["event_id"], "flag_id": flag_id}))
        taken = taken.union(pd.Index(rows["event_id"]))
    if not flags:
        return _empty_flags(), pd.DataFrame({"event_id": [], "flag_id": []}, dtype="object")
    return pd.concat(flags, ignore_index=True), pd.concat(events, ignore_index=True)


RULE_BY_NAME = {rule.name: rule for rule in ALL_RULES}


def flag_row(rule: Rule, flag_id: str, key: object, group: pd.DataFrame) -> pd.DataFrame:
    """One flag from its events (event_id, article_id, reader_hash, kind_id, occurred_at,
    density, threshold, median)."""
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
    """No flags, in the columns a flag has (the stored ones, and the threshold it crossed)."""
    return pd.DataFrame(columns=[*INTEGRITY_FLAG_COLUMNS[:-1], "threshold", "reason"])
