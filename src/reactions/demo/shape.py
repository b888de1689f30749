"""The numbers the synthetic newsroom is made of: each topic's mix of kinds, share of stories
and reach, the daily cycles of reading and publishing, how late readers come, and how often
they undo, switch, or go viral — and how much planted bot activity there is."""

from __future__ import annotations

import numpy as np

from reactions.store.schema import DEFAULT_REACTION_KINDS

KINDS: tuple[str, ...] = tuple(k[0] for k in DEFAULT_REACTION_KINDS)

# Relative weight of each kind (like, dislike, love, funny, angry, sad, wow) per topic.
TOPIC_MIX: dict[str, tuple[float, ...]] = {
    "World": (30, 8, 6, 3, 18, 22, 13),
    "Politics": (24, 20, 4, 6, 34, 5, 7),
    "Business": (38, 14, 4, 5, 16, 6, 17),
    "Technology": (40, 8, 12, 6, 8, 3, 23),
    "Sports": (26, 6, 42, 8, 8, 6, 4),
    "Entertainment": (26, 6, 24, 28, 4, 4, 8),
    "Science": (34, 3, 14, 4, 3, 4, 38),
    "Health": (36, 5, 10, 3, 10, 24, 12),
}
# Share of articles per topic, and how many readers an article of the topic draws.
TOPIC_SHARE = {
    "World": 16,
    "Politics": 18,
    "Business": 13,
    "Technology": 12,
    "Sports": 14,
    "Entertainment": 11,
    "Science": 7,
    "Health": 9,
}
TOPIC_REACH = {
    "World": 1.1,
    "Politics": 1.4,
    "Business": 0.7,
    "Technology": 0.9,
    "Sports": 1.2,
    "Entertainment": 1.1,
    "Science": 0.6,
    "Health": 0.8,
}

# Relative reading activity per hour of day (UTC): morning and evening peaks, quiet nights.
HOURLY_ACTIVITY = np.array(
    [1.8, 1.3, 1, 0.9, 1, 1.4, 2.8, 5, 7, 7, 6, 5.5, 6, 6, 5.5, 5, 5, 5.5, 6.5, 7.5, 8, 7, 4.5, 2.8]
)
# Relative publishing activity per hour of day (UTC): the desk works days and evenings.
HOURLY_PUBLISHING = np.array(
    [0.3, 0.2, 0.1, 0.1, 0.2, 0.6, 2, 4, 6, 7, 7, 6, 6, 6, 6, 6, 5.5, 5, 4.5, 4, 3, 2, 1.2, 0.6]
)

DELAY_MEDIAN_HOURS = 1.5  # reading delay after publication: log-normal, long tail
DELAY_SIGMA = 1.4
UNDO_SHARE = 0.045  # of reader sessions: add, then remove a little later
SWITCH_SHARE = 0.035  # of reader sessions: add, then remove + add of another kind
VIRAL_SHARE = 0.015  # of articles: an order of magnitude more readers
BURST_EVENT_SHARE = 0.004  # of all events: planted bot-like activity
SEED_ARTICLE_SHARE = 0.0015  # of organic sessions: the seed article's history
