"""Planted bot-like activity, labelled so integrity checks can be measured: many new readers
on one network tapping one kind within minutes, one reader toggling one article, one reader
on dozens of articles within an hour."""

from __future__ import annotations

import numpy as np

from reactions.demo.shape import KINDS

BURST_LABELS = ("coordinated_burst", "toggle_storm", "hyperactive_reader")


def planted_bursts(
    rng: np.random.Generator,
    published: np.ndarray,
    end: np.datetime64,
    budget: int,
    reader_base: int,
    network_base: int,
) -> dict[str, np.ndarray]:
    """Planted bot-like activity, about `budget` events, on fresh reader ids."""
    parts: list[dict[str, np.ndarray]] = []
    used = 0
    next_reader = reader_base
    n_articles = len(published) - 1  # not the seed article
    kind_angry = KINDS.index("angry")
    kind_like = KINDS.index("like")
    while used < budget:
        remaining = budget - used
        style = len(parts) % 3  # every style appears once the budget allows
        target = int(rng.integers(n_articles)) if n_articles else 0
        earliest = published[target]
        span = max(int((end - earliest).astype(np.int64)) - 600_000_000, 1)
        t0 = earliest + np.timedelta64(int(rng.random() * span), "us")
        if style == 0:  # many fresh readers on one network, one kind, a few minutes
            size = min(remaining, int(rng.integers(150, 400)))
            offsets = np.sort(rng.random(size)) * rng.uniform(120, 420)
            part = {
                "article": np.full(size, target),
                "reader": next_reader + np.arange(size),
                "network": np.full(size, network_base + len(parts)),
                "kind": np.full(size, kind_angry),
                "action": np.ones(size),
                "time": t0 + (offsets * 1e6).astype("timedelta64[us]"),
            }
            next_reader += size
        elif style == 1:  # one reader toggling the same kind: add, remove, add, …
            size = min(remaining, int(rng.integers(40, 120)))
            offsets = np.cumsum(rng.uniform(0.5, 4.0, size))
            part = {
                "article": np.full(size, target),
                "reader": np.full(size, next_reader),
                "network": np.full(size, network_base + len(parts)),
                "kind": np.full(size, int(rng.integers(len(KINDS)))),
                "action": (np.arange(size) % 2 == 0),
                "time": t0 + (offsets * 1e6).astype("timedelta64[us]"),
            }
            next_reader += 1
        else:  # one reader liking dozens of different articles within the hour
            size = min(remaining, int(rng.integers(40, 90)), n_articles or 1)
            targets = rng.choice(max(n_articles, 1), size=size, replace=False)
            t_last = published[targets].max()
            base = max(t_last, t0)
            room = max(int((end - base).astype(np.int64)), 1)
            offsets = np.sort(rng.random(size)) * min(3.6e9, room)
            part = {
                "article": targets,
                "reader": np.full(size, next_reader),
                "network": np.full(size, network_base + len(parts)),
                "kind": np.full(size, kind_like),
                "action": np.ones(size),
                "time": base + offsets.astype("timedelta64[us]"),
            }
            next_reader += 1
        part["label"] = np.full(size, style + 1)
        parts.append(part)
        used += size
    return {
        key: np.concatenate([p[key] for p in parts]).astype(dtype)
        for key, dtype in (
            ("article", np.int32),
            ("reader", np.int64),
            ("network", np.int64),
            ("kind", np.int8),
            ("action", np.int8),
            ("time", "datetime64[us]"),
            ("label", np.int8),
        )
    }
