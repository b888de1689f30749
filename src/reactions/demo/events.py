"""The synthetic newsroom's reaction events, shaped like reading (see newsroom.py), as a
frame in time order, vectorized: per-event work is numpy, strings are categoricals."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from reactions.demo.bursts import BURST_LABELS, planted_bursts
from reactions.demo.shape import (
    BURST_EVENT_SHARE,
    DELAY_MEDIAN_HOURS,
    DELAY_SIGMA,
    HOURLY_ACTIVITY,
    KINDS,
    SEED_ARTICLE_SHARE,
    SWITCH_SHARE,
    TOPIC_MIX,
    TOPIC_REACH,
    UNDO_SHARE,
    VIRAL_SHARE,
)
from reactions.store.store import IDENTITY_BYTES, identity_text

ProgressFn = Callable[[str, float], None]


def make_events(
    rng: np.random.Generator,
    articles: pd.DataFrame,
    total: int,
    end: datetime,
    progress: ProgressFn,
) -> tuple[pd.DataFrame, pd.Series]:
    """`total` events (organic sessions, and planted bursts from 20,000 events up), in time
    order, with each event's planted label (missing for organic ones)."""
    end64 = np.datetime64(end, "us")
    published = articles["published_at"].to_numpy(dtype="datetime64[us]")
    burst_budget = int(total * BURST_EVENT_SHARE) if total >= 20_000 else 0
    session_type = _session_types(rng, total - burst_budget)
    progress("events", 0.05)
    article = _session_articles(rng, articles, published, len(session_type), end64)
    progress("events", 0.2)
    start = _reading_times(rng, published[article], end64)
    progress("events", 0.4)
    kind = _session_kinds(rng, articles, article)
    progress("events", 0.55)
    reader = _readers(rng, article, len(session_type))
    network = reader // 3  # a few readers share a network (households, offices)
    progress("events", 0.65)
    session, times, kinds, actions = _session_events(rng, session_type, start, kind, end64)
    columns = {
        "article": article[session],
        "reader": reader[session],
        "network": network[session],
        "time": times,
        "kind": kinds,
        "action": actions,
        "label": np.zeros(len(session), dtype=np.int8),
    }
    progress("events", 0.75)
    if burst_budget:
        planted = planted_bursts(
            rng,
            published,
            end64,
            burst_budget,
            reader_base=int(reader.max()) + 1,
            network_base=int(network.max()) + 1,
        )
        columns = {key: np.concatenate([value, planted[key]]) for key, value in columns.items()}
    progress("events", 0.85)
    frame, labels = _frame(rng, articles, columns)
    progress("events", 1.0)
    return frame, labels


def _session_types(rng: np.random.Generator, organic: int) -> np.ndarray:
    """Per reader session: 0 a single add, 1 an undo (add, remove), 2 a switch (add, then a
    remove and an add) — as many as make exactly `organic` events, in random order."""
    n_undo = int(organic * UNDO_SHARE / 1.13)
    n_switch = int(organic * SWITCH_SHARE / 1.13)
    n_single = organic - 2 * n_undo - 3 * n_switch
    session_type = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_single, n_undo, n_switch])
    rng.shuffle(session_type)
    return session_type


def _session_articles(
    rng: np.random.Generator,
    articles: pd.DataFrame,
    published: np.ndarray,
    n_sessions: int,
    end: np.datetime64,
) -> np.ndarray:
    """Which article each session is on: topic reach × log-normal popularity × rare
    virality; the seed article (the last row) gets a fixed share."""
    n_articles = len(articles)
    topic_codes = pd.Categorical(articles["topic"], categories=list(TOPIC_MIX)).codes
    reach = np.array([TOPIC_REACH[t] for t in TOPIC_MIX])[topic_codes]
    weight = reach * rng.lognormal(0.0, 0.9, size=n_articles)
    weight[rng.random(n_articles) < VIRAL_SHARE] *= 12
    # A young article has had only part of its readership so far: the share of the delay
    # distribution that has elapsed by `end`.
    weight *= _elapsed_share((end - published).astype(np.int64) / 3.6e9)
    seed_row = n_articles - 1
    weight[seed_row] = 0
    weight = weight / weight.sum() * (1 - SEED_ARTICLE_SHARE)
    weight[seed_row] = SEED_ARTICLE_SHARE if n_articles > 1 else 1.0
    return rng.choice(n_articles, size=n_sessions, p=weight / weight.sum()).astype(np.int32)


def _session_kinds(
    rng: np.random.Generator, articles: pd.DataFrame, article: np.ndarray
) -> np.ndarray:
    """The kind each session adds: the topic's mix, perturbed per article (some stories
    anger more than others)."""
    topic_codes = pd.Categorical(articles["topic"], categories=list(TOPIC_MIX)).codes
    base = np.array([TOPIC_MIX[t] for t in TOPIC_MIX], dtype=float)[topic_codes]
    mix = base * rng.lognormal(0.0, 0.35, size=base.shape)
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    return _draw_kind(rng, cum, article)


def _session_events(
    rng: np.random.Generator,
    session_type: np.ndarray,
    start: np.ndarray,
    kind: np.ndarray,
    end: np.datetime64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(session, time, kind, action 1=add 0=remove) of every event: each session's add, and
    the follow-ups of undos and switches shortly after it."""
    follow_idx = np.flatnonzero(session_type > 0)
    delay = rng.exponential(120.0, size=len(follow_idx)) + 2  # seconds
    later = np.minimum(start[follow_idx] + (delay * 1e6).astype("timedelta64[us]"), end)
    is_switch = session_type[follow_idx] == 2
    switch_idx = follow_idx[is_switch]
    new_kind = (kind[switch_idx] + rng.integers(1, len(KINDS), size=len(switch_idx))) % len(KINDS)
    parts = (
        (np.arange(len(session_type)), start, kind, 1),  # the add
        (follow_idx, later, kind[follow_idx], 0),  # an undo's, or a switch's, remove
        (switch_idx, later[is_switch], new_kind, 1),  # a switch's new add
    )
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]).astype(np.int8),
        np.concatenate([np.full(len(p[0]), p[3], dtype=np.int8) for p in parts]),
    )


def _frame(
    rng: np.random.Generator, articles: pd.DataFrame, columns: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.Series]:
    """The events as the log's columns, in time order. The sort is stable, so at equal
    instants the parts' order holds: a switch's remove stays before its add."""
    sort = np.argsort(columns["time"], kind="stable")
    frame = pd.DataFrame(
        {
            "occurred_at": columns["time"][sort],
            "article_id": _categorical(
                columns["article"][sort], categories=articles["article_id"].tolist()
            ),
            "reader_hash": _identity_column(rng, columns["reader"][sort], salt=1),
            "kind_id": _categorical(columns["kind"][sort], categories=list(KINDS)),
            "action": _categorical(columns["action"][sort], categories=["remove", "add"]),
            "source": _categorical(np.zeros(len(sort), dtype=np.int8), categories=["synthetic"]),
            "network_hash": _identity_column(rng, columns["network"][sort], salt=2),
        }
    )
    labels = pd.Series(
        _categorical(columns["label"][sort] - 1, categories=list(BURST_LABELS)), name="label"
    )
    return frame, labels


def _elapsed_share(age_hours: np.ndarray) -> np.ndarray:
    """CDF of the reading-delay distribution (log-normal) at each age, in hours."""
    z = (np.log(np.maximum(age_hours, 1e-6)) - np.log(DELAY_MEDIAN_HOURS)) / DELAY_SIGMA
    return np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z])


def _reading_times(
    rng: np.random.Generator, published: np.ndarray, end: np.datetime64
) -> np.ndarray:
    """When each session's first tap happens: log-normal delay after publication (median ~1.5 h,
    long tail), thinned by the hour-of-day activity curve, never after `end`."""
    n = len(published)
    out = np.empty(n, dtype="datetime64[us]")
    pending = np.arange(n)
    accept_p = HOURLY_ACTIVITY / HOURLY_ACTIVITY.max()
    for _ in range(40):
        if not len(pending):
            break
        hours = rng.lognormal(np.log(DELAY_MEDIAN_HOURS), DELAY_SIGMA, size=len(pending))
        t = published[pending] + (hours * 3.6e9).astype("timedelta64[us]")
        hour_of_day = (t.astype("datetime64[h]").astype(np.int64) % 24).astype(np.int64)
        ok = (t <= end) & (rng.random(len(pending)) < accept_p[hour_of_day])
        out[pending[ok]] = t[ok]
        pending = pending[~ok]
    if len(pending):  # articles published minutes before `end`: squeeze into what is left
        room = (end - published[pending]).astype(np.int64)
        out[pending] = published[pending] + (rng.random(len(pending)) * room).astype(
            "timedelta64[us]"
        )
    return out


def _draw_kind(rng: np.random.Generator, cum: np.ndarray, article: np.ndarray) -> np.ndarray:
    kinds = np.empty(len(article), dtype=np.int8)
    step = 2_000_000  # bounded memory: one chunk of the (n × kinds) comparison at a time
    for lo in range(0, len(article), step):
        part = article[lo : lo + step]
        u = rng.random(len(part))
        kinds[lo : lo + step] = np.minimum((u[:, None] > cum[part]).sum(axis=1), len(KINDS) - 1)
    return kinds


def _readers(rng: np.random.Generator, article: np.ndarray, n: int) -> np.ndarray:
    """Reader index per session: a skewed pool (loyal readers react often), never the same
    reader twice on one article (a second tap would be a toggle, not a new session)."""
    pool = max(10, n // 4)
    reader = (pool * rng.random(n) ** 2.2).astype(np.int64)
    key = article.astype(np.int64) * (pool + n) + reader
    dup = pd.Series(key).duplicated().to_numpy()  # hashing: cheaper than np.unique's sort
    reader[dup] = pool + np.arange(int(dup.sum()))
    return reader


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    """Codes into a categorical over known categories (codes are ours: no validation pass)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories), validate=False)


def _dictionary(codes: np.ndarray, categories: list[str]) -> pd.arrays.ArrowExtensionArray:
    """Codes into an Arrow dictionary column. Unlike a pandas categorical it skips the
    uniqueness pass over the categories (millions of identities at scale), and it
    reaches DuckDB as Arrow without a conversion."""
    array = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32, copy=False)), pa.array(categories, type=pa.string())
    )
    return pd.arrays.ArrowExtensionArray(array)


def _identity_column(
    rng: np.random.Generator, ids: np.ndarray, *, salt: int
) -> pd.arrays.ArrowExtensionArray:
    """Opaque identities (the same shape as salted reader hashes) for non-negative integer
    ids, as a categorical. Reproducible: drawn from a seeded stream. One random buffer is
    base64-encoded once and sliced — 9 bytes encode to exactly 12 characters, so slice i is
    id i — because formatting millions of ids one at a time dominated the generator."""
    span = int(ids.max()) + 1 if len(ids) else 1
    stream = np.random.default_rng([salt, int(rng.integers(2**31))])
    text = identity_text(stream.bytes(IDENTITY_BYTES * span))
    width = IDENTITY_BYTES * 4 // 3
    categories = [text[i : i + width] for i in range(0, len(text), width)]
    return _dictionary(ids, categories)
