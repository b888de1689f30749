"""Synthetic views of the reaction bar, consistent with the synthetic reactions.

Each article gets a reaction rate — the share of readers shown the bar who react — drawn
around its topic's (Politics readers react most, Business readers least), log-normal per
article (most between 0.5 % and 5 %), with a few far outside. Every organic reading session
that reacted is one view by that reader at that moment; around it, about 1/rate − 1 readers
saw the bar in the half hour before and did not react. So views follow the reactions'
curves — decaying after publication, the daily cycle — and volume is 20–200× the reactions.

Planted bot bursts get no views: bots post reactions without ever loading a page, which is
one way the integrity page's raw-versus-clean rates tell them apart.

Tens of millions of rows are made inside DuckDB (`store.bulk.append_views`), not in Python: the
per-session randomness is DuckDB's `hash()` of the seed and the session, so the same seed
gives the same views. Non-reacting viewers get 12-hex-character identities.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from reactions.store import bulk
from reactions.store.store import Store

# Median reaction rate (reactions per view) of an article, per topic.
TOPIC_REACTION_RATE = {
    "World": 0.022,
    "Politics": 0.034,
    "Business": 0.013,
    "Technology": 0.018,
    "Sports": 0.03,
    "Entertainment": 0.028,
    "Science": 0.016,
    "Health": 0.02,
}
RATE_SIGMA = 0.45  # log-normal spread between articles of a topic
OUTLIER_SHARE = 0.03  # of articles: a rate 4× above or below the topic's (far outside)
LOOKED_BEFORE_SECONDS = 1_800  # non-reacting views fall in the half hour before a reaction
PARTS = 10  # articles are written in this many groups, for progress


def article_rates(rng: np.random.Generator, articles: pd.DataFrame) -> pd.Series:
    """Reaction rate per article id."""
    median = articles["topic"].map(TOPIC_REACTION_RATE).fillna(0.02).to_numpy(dtype=float)
    rate = median * rng.lognormal(0.0, RATE_SIGMA, size=len(articles))
    outlier = rng.random(len(articles)) < OUTLIER_SHARE
    rate[outlier] *= np.where(rng.random(int(outlier.sum())) < 0.5, 4.0, 0.25)
    return pd.Series(np.clip(rate, 0.001, 0.5), index=articles["article_id"].to_numpy())


# $1 article ids, $2 their rates, $3/$4 the first and last event id of this newsroom, $5 seed.
_VIEWS_SQL = f"""
WITH rates AS (SELECT unnest($1::VARCHAR[]) AS article_id, unnest($2::DOUBLE[]) AS rate),
sessions AS (
    SELECT e.article_id, e.reader_hash, min(e.occurred_at) AS first_seen
    FROM reaction_events e SEMI JOIN rates r USING (article_id)
    WHERE e.event_id BETWEEN $3 AND $4 AND e.action = 'add'
      AND e.event_id NOT IN (SELECT event_id FROM synthetic_labels)
    GROUP BY ALL
),
spawned AS (
    SELECT s.*, a.published_at, hash($5, s.reader_hash, s.article_id) AS session_key,
           -- 1/rate − 1 others, rounded up or down at random so the mean is exact
           greatest(0, floor(1 / r.rate - 1
               + (hash($5, s.article_id, s.reader_hash) % 1000) / 1000.0))::INTEGER AS others
    FROM sessions s JOIN rates r USING (article_id) JOIN articles a USING (article_id)
)
SELECT
    CASE WHEN i = 0 THEN first_seen
         ELSE greatest(published_at, first_seen - to_microseconds(
             (hash(session_key, i) % {LOOKED_BEFORE_SECONDS * 1_000_000})::BIGINT))
    END AS viewed_at,
    article_id,
    CASE WHEN i = 0 THEN reader_hash ELSE to_hex(hash(session_key, i, 1) >> 16) END,
    'synthetic'
FROM (SELECT *, unnest(range(others + 1)) AS i FROM spawned)
"""


def append_views(
    store: Store,
    rates: pd.Series,
    events: range,
    seed: int,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Write the views of the newsroom whose reactions are `events`; returns how many."""
    if not len(events) or rates.empty:
        return 0
    groups = np.array_split(np.arange(len(rates)), min(PARTS, len(rates)))
    queries = [
        (
            _VIEWS_SQL,
            [
                rates.index[g].tolist(),
                rates.iloc[g].tolist(),
                events.start,
                events.stop - 1,
                seed,
            ],
        )
        for g in groups
    ]
    return bulk.append_views(store, queries, progress=progress)
