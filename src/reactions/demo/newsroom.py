"""A synthetic newsroom: articles that read like news, and reaction events shaped like reading.

Deterministic: the same `seed` and `end` give the same frames, byte for byte. Faker only fills
small pools (names, places, companies); everything per event is vectorized numpy, so 10M
events take seconds. String columns are categoricals built from deduplicated pools (pandas 3
string columns built from numpy string arrays are slow).

What the events imitate:
- most reactions in the first hours after publication, with a long tail (log-normal delay);
- a daily reading cycle (mornings and evenings);
- topic-dependent mixes (Politics draws angry, Sports draws love) with per-article variation;
- a few viral articles, and readers who come back (a skewed reader pool);
- undos (add then remove) and switches (remove + add at the same instant);
- planted bot-like bursts, labelled in `labels` so integrity checks can be measured:
  `coordinated_burst` (many new readers, one network, one kind, minutes), `toggle_storm`
  (one reader toggling add/remove on one article), `hyperactive_reader` (one reader on
  dozens of articles within an hour).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from faker import Faker

from reactions.clock import utc_now
from reactions.demo.articles import make_articles
from reactions.demo.bar_views import append_views, article_rates
from reactions.demo.events import ProgressFn, make_events
from reactions.store.articles import upsert_articles
from reactions.store.bulk import append_events
from reactions.store.store import Store


@dataclass(frozen=True)
class Newsroom:
    articles: pd.DataFrame  # columns of the `articles` table
    events: pd.DataFrame  # columns of `reaction_events` except event_id, in time order
    labels: pd.Series  # per event: planted anomaly label, or missing for organic events
    view_rates: pd.Series  # per article id: reactions per view (views are made on load)
    seed: int


def _no_progress(stage: str, fraction: float) -> None:
    """Default progress callback: report nothing."""


def populate(
    store: Store, newsroom: Newsroom, progress: Callable[[float], None] | None = None
) -> int:
    """Write a generated newsroom: its articles (upserted), its events and labels, then the
    views of the reaction bar that go with them (made in DuckDB: `synth_views`). Returns
    how many views it wrote."""
    report = progress or (lambda fraction: None)
    upsert_articles(store, newsroom.articles)
    events = append_events(
        store, newsroom.events, newsroom.labels, progress=lambda f: report(f * 0.4)
    )
    return append_views(
        store, newsroom.view_rates, events, newsroom.seed, progress=lambda f: report(0.4 + f * 0.6)
    )


def generate(
    *,
    articles: int = 500,
    events: int = 1_000_000,
    days: int = 90,
    seed: int = 7,
    end: datetime | None = None,
    views: bool = True,
    progress: ProgressFn = _no_progress,
) -> Newsroom:
    """Generate a newsroom. `end` (naive UTC) is the newest instant; default: this hour.
    Without `views`, no views of the reaction bar are made (and no rates can be shown)."""
    if articles < 1:
        raise ValueError("articles must be at least 1")
    if events < 0:
        raise ValueError("events must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    end = end or utc_now().replace(minute=0, second=0, microsecond=0)
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)

    progress("articles", 0.0)
    frame = make_articles(rng, fake, articles, days, end)
    progress("articles", 1.0)
    event_frame, labels = make_events(rng, frame, events, end, progress)
    rates = article_rates(rng, frame) if views else pd.Series(dtype=float)
    return Newsroom(frame, event_frame, labels, rates, seed)
