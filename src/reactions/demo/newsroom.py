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

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
from faker import Faker

from reactions.clock import utc_now
from reactions.demo.bar_views import append_views, article_rates
from reactions.store.articles import upsert_articles
from reactions.store.bulk import append_events
from reactions.store.schema import DEFAULT_REACTION_KINDS
from reactions.store.store import IDENTITY_BYTES, Store, identity_text

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


@dataclass(frozen=True)
class Newsroom:
    articles: pd.DataFrame  # columns of the `articles` table
    events: pd.DataFrame  # columns of `reaction_events` except event_id, in time order
    labels: pd.Series  # per event: planted anomaly label, or missing for organic events
    view_rates: pd.Series  # per article id: reactions per view (views are made on load)
    seed: int


ProgressFn = Callable[[str, float], None]


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


def load_seed_article() -> dict[str, object]:
    text = resources.files("reactions").joinpath("data/seed_article.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


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
    frame = _articles(rng, fake, articles, days, end)
    progress("articles", 1.0)
    event_frame, labels = _events(rng, frame, events, end, progress)
    rates = article_rates(rng, frame) if views else pd.Series(dtype=float)
    return Newsroom(frame, event_frame, labels, rates, seed)


# --- articles ------------------------------------------------------------------------

_HEADLINES: dict[str, tuple[str, ...]] = {
    "World": (
        "{country} and {country2} agree to reopen talks after months of tension",
        "Earthquake in {city} leaves thousands without power",
        "{country} recalls ambassador as border dispute escalates",
        "UN envoy warns of humanitarian crisis in {country}",
        "{leader} visits {city} in push for regional trade pact",
    ),
    "Politics": (
        "Senate passes {topic_word} bill after overnight session",
        "{leader} faces backlash over {topic_word} remarks",
        "Polls tighten in {state} as early voting begins",
        "Governor of {state} vetoes {topic_word} reform",
        "Opposition demands inquiry into {topic_word} spending",
    ),
    "Business": (
        "{company} shares slide after profit warning",
        "{company} to cut {number}0 jobs in restructuring",
        "Central bank holds rates as inflation cools to {percent}%",
        "{company} agrees to buy {company2} in ${number}m deal",
        "Fuel prices in {state} rise for {ordinal} straight week",
    ),
    "Technology": (
        "{company} unveils AI assistant for small businesses",
        "Data breach at {company} exposes {number} customer records",
        "Regulators probe {company} over app store rules",
        "{company} recalls smart thermostats after overheating reports",
        "Startup in {city} raises ${number}m for battery recycling",
    ),
    "Sports": (
        "{city} clinch title with last-minute winner",
        "{person} breaks national record in {city} marathon",
        "Coach {person} steps down after {small}-game losing run",
        "{city} stun champions in cup upset",
        "{person} returns from injury to lead comeback win",
    ),
    "Entertainment": (
        "{person}'s debut film tops weekend box office",
        "Festival in {city} announces surprise headliner",
        "{person} opens up about life after reality TV",
        "{person}'s streaming hit renewed for {ordinal} season",
        "Critics split over {person}'s new album",
    ),
    "Science": (
        "Astronomers in {city} spot water vapour on distant exoplanet",
        "Researchers in {city} grow heart tissue from stem cells",
        "Ancient shipwreck found off the coast of {country}",
        "New species of frog discovered in {country} rainforest",
        "Mission to study asteroid launches from {country}",
    ),
    "Health": (
        "Hospitals in {state} brace for early flu season",
        "{city} study links night shifts to higher heart risk",
        "{city} clinic waiting lists reach record {number} patients",
        "{state} issues new screen-time guidance for under-fives",
        "Measles cases rise in {state} as vaccination rates fall",
    ),
}
_DEKS: dict[str, tuple[str, ...]] = {
    "World": (
        "Diplomats say the coming weeks will decide whether the truce holds.",
        "Aid groups are asking for safe corridors as conditions worsen.",
    ),
    "Politics": (
        "Lawmakers from both parties say the vote will shape the campaign.",
        "Critics call the move a distraction; supporters call it overdue.",
    ),
    "Business": (
        "Analysts had expected a softer landing after a strong first half.",
        "Investors are watching whether the deal clears competition review.",
    ),
    "Technology": (
        "The company says the feature will roll out gradually this quarter.",
        "Security researchers urge customers to change passwords now.",
    ),
    "Sports": (
        "Fans filled the streets long after the final whistle.",
        "The result leaves the title race wide open with three games to go.",
    ),
    "Entertainment": (
        "The surprise success has studios rethinking release plans.",
        "Early reviews praise the performances but not the pacing.",
    ),
    "Science": (
        "The findings, published this week, could reshape the field.",
        "Scientists caution that more data is needed before firm conclusions.",
    ),
    "Health": (
        "Doctors urge people at higher risk to book appointments early.",
        "The authors say the effect held across age groups and incomes.",
    ),
}
# Real places read like news; faker's invented towns do not.
_CITIES = (
    "New Delhi",
    "Mumbai",
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Rome",
    "Lisbon",
    "Warsaw",
    "Nairobi",
    "Lagos",
    "Cairo",
    "Johannesburg",
    "Istanbul",
    "Dubai",
    "Karachi",
    "Dhaka",
    "Singapore",
    "Jakarta",
    "Manila",
    "Seoul",
    "Tokyo",
    "Sydney",
    "Auckland",
    "Toronto",
    "Chicago",
    "Houston",
    "Denver",
    "Atlanta",
    "Boston",
    "Seattle",
    "Mexico City",
    "Bogota",
    "Lima",
    "Santiago",
    "Buenos Aires",
    "Sao Paulo",
    "Kyiv",
    "Geneva",
    "Brussels",
)
_TOPIC_WORDS = (
    "housing",
    "immigration",
    "energy",
    "education",
    "tax",
    "healthcare",
    "climate",
    "policing",
    "pension",
    "transport",
)
_TAGS: dict[str, tuple[str, ...]] = {
    "World": ("Diplomacy", "Conflict", "Humanitarian", "United Nations", "Trade", "Elections"),
    "Politics": ("Congress", "Elections", "Budget", "Policy", "White House", "Courts"),
    "Business": ("Markets", "Jobs", "Inflation", "Mergers", "Energy", "Retail"),
    "Technology": ("AI", "Privacy", "Startups", "Cybersecurity", "Gadgets", "Regulation"),
    "Sports": ("Football", "Basketball", "Athletics", "Tennis", "Transfers", "Injuries"),
    "Entertainment": ("Film", "Music", "Television", "Celebrity", "Festivals", "Streaming"),
    "Science": ("Space", "Climate", "Biology", "Archaeology", "Physics", "Research"),
    "Health": ("Public health", "Vaccines", "Mental health", "Hospitals", "Nutrition", "Research"),
}


def _pool(make: Callable[[], str], size: int) -> list[str]:
    """`size` distinct values from a faker provider (fewer if it runs out)."""
    seen: dict[str, None] = {}
    for _ in range(size * 4):
        seen.setdefault(make(), None)
        if len(seen) == size:
            break
    return list(seen)


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def _articles(
    rng: np.random.Generator, fake: Faker, n: int, days: int, end: datetime
) -> pd.DataFrame:
    topics = list(TOPIC_SHARE)
    share = np.array([TOPIC_SHARE[t] for t in topics], dtype=float)
    topic_idx = rng.choice(len(topics), size=n, p=share / share.sum())
    authors = _pool(lambda: f"{fake.first_name()} {fake.last_name()}", 36)
    slots = {
        "country": _pool(fake.country, 60),
        "city": list(_CITIES),
        "state": _pool(fake.state, 50),
        "company": _pool(fake.company, 80),
        "person": _pool(lambda: f"{fake.first_name()} {fake.last_name()}", 80),
        "leader": _pool(fake.last_name, 40),
    }
    # Publication times: spread over the window, mostly in working hours.
    hours = _sample_hours(rng, n)
    day_offsets = rng.integers(0, days, size=n)
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    published = [
        midnight - timedelta(days=int(d)) + timedelta(hours=float(h))
        for d, h in zip(day_offsets, hours, strict=True)
    ]
    # Today's slots later than `end` have not happened yet: those articles ran a day earlier.
    latest = end - timedelta(minutes=30)
    published = [p - timedelta(days=1) if p > latest else p for p in published]
    rows = []
    seen_titles: set[str] = set()
    for i in range(n):
        topic = topics[topic_idx[i]]
        title, pick = _headline(rng, topic, slots, seen_titles)
        deks = _DEKS[topic]
        dek = deks[int(rng.integers(len(deks)))]
        tag_pool = _TAGS[topic]
        tags = sorted(
            set(rng.choice(tag_pool, size=int(rng.integers(2, 4)), replace=False).tolist())
        )
        dateline = pick["city"]
        updated = published[i] + timedelta(minutes=int(rng.integers(5, 240)))
        rows.append(
            {
                "article_id": f"{_slug(topic, 20)}-{i:05d}-{_slug(title, 48)}",
                "title": title,
                "dek": dek,
                "body": _body(fake, dateline, title, dek),
                "url": None,
                "topic": topic,
                "tags": tags,
                "author": authors[int(rng.integers(len(authors)))],
                "dateline": dateline,
                "published_at": published[i],
                "updated_at": min(updated, end) if rng.random() < 0.4 else None,
                "origin": "synthetic",
            }
        )
    seed = load_seed_article()
    rows.append(
        {
            "article_id": seed["article_id"],
            "title": seed["title"],
            "dek": seed["dek"],
            "body": seed["body"],
            "url": seed["url"],
            "topic": seed["topic"],
            "tags": seed["tags"],
            "author": seed["author"],
            "dateline": seed["dateline"],
            "published_at": datetime.fromisoformat(str(seed["published_at"])),
            "updated_at": datetime.fromisoformat(str(seed["updated_at"])),
            "origin": "seed",
        }
    )
    frame = pd.DataFrame(rows)
    frame["published_at"] = pd.to_datetime(frame["published_at"]).astype("datetime64[us]")
    frame["updated_at"] = pd.to_datetime(frame["updated_at"]).astype("datetime64[us]")
    return frame


def _headline(
    rng: np.random.Generator, topic: str, slots: dict[str, list[str]], seen: set[str]
) -> tuple[str, dict[str, str]]:
    """A headline for `topic` not used before in this newsroom (real desks don't repeat)."""
    templates = _HEADLINES[topic]
    for attempt in range(100):
        pick = {k: v[int(rng.integers(len(v)))] for k, v in slots.items()}
        pick["country2"] = slots["country"][int(rng.integers(len(slots["country"])))]
        pick["company2"] = slots["company"][int(rng.integers(len(slots["company"])))]
        pick["topic_word"] = _TOPIC_WORDS[int(rng.integers(len(_TOPIC_WORDS)))]
        pick["number"] = str(int(rng.integers(3, 900)))
        pick["small"] = str(int(rng.integers(4, 13)))
        pick["percent"] = f"{rng.uniform(1.5, 6.5):.1f}"
        pick["ordinal"] = ("second", "third", "fourth", "fifth")[int(rng.integers(4))]
        title = templates[int(rng.integers(len(templates)))].format(**pick)
        title = title[0].upper() + title[1:]
        if attempt == 99:  # pools exhausted (tens of thousands of articles): number it
            title = f"{title} ({len(seen) + 1})"
        if title not in seen:
            seen.add(title)
            return title, pick
    raise AssertionError("unreachable")


def _body(fake: Faker, dateline: str, title: str, dek: str) -> str:
    paragraphs = [f"**{dateline}:** {dek} {fake.paragraph(nb_sentences=3)}"]
    paragraphs += [fake.paragraph(nb_sentences=4) for _ in range(2)]
    points = "\n".join(f"- {fake.sentence(nb_words=12)}" for _ in range(3))
    return "\n\n".join([paragraphs[0], "### Key Points", points, *paragraphs[1:]])


def _sample_hours(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fractional hours of day [0, 24) following HOURLY_PUBLISHING."""
    p = HOURLY_PUBLISHING / HOURLY_PUBLISHING.sum()
    return rng.choice(24, size=n, p=p) + rng.random(n)


# --- events --------------------------------------------------------------------------


def _events(
    rng: np.random.Generator,
    articles: pd.DataFrame,
    total: int,
    end: datetime,
    progress: ProgressFn,
) -> tuple[pd.DataFrame, pd.Series]:
    n_articles = len(articles)
    end64 = np.datetime64(end, "us")
    published = articles["published_at"].to_numpy(dtype="datetime64[us]")
    topic_codes = pd.Categorical(articles["topic"], categories=list(TOPIC_MIX)).codes

    burst_budget = int(total * BURST_EVENT_SHARE) if total >= 20_000 else 0
    organic = total - burst_budget
    # Exact event count: singles give 1 event, undos 2, switches 3.
    n_undo = int(organic * UNDO_SHARE / 1.13)
    n_switch = int(organic * SWITCH_SHARE / 1.13)
    n_single = organic - 2 * n_undo - 3 * n_switch
    n_sessions = n_single + n_undo + n_switch
    session_type = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_single, n_undo, n_switch])
    rng.shuffle(session_type)
    progress("events", 0.05)

    # Which article each session is on: topic reach × log-normal popularity × rare virality;
    # the seed article (last row) gets a fixed share.
    reach = np.array([TOPIC_REACH[t] for t in TOPIC_MIX])[topic_codes]
    weight = reach * rng.lognormal(0.0, 0.9, size=n_articles)
    weight[rng.random(n_articles) < VIRAL_SHARE] *= 12
    # A young article has had only part of its readership so far: the share of the delay
    # distribution that has elapsed by `end`.
    weight *= _elapsed_share((end64 - published).astype(np.int64) / 3.6e9)
    seed_row = n_articles - 1
    weight[seed_row] = 0
    weight = weight / weight.sum() * (1 - SEED_ARTICLE_SHARE)
    weight[seed_row] = SEED_ARTICLE_SHARE if n_articles > 1 else 1.0
    article = rng.choice(n_articles, size=n_sessions, p=weight / weight.sum()).astype(np.int32)
    progress("events", 0.2)

    start = _reading_times(rng, published[article], end64)
    progress("events", 0.4)

    # The kind: the topic's mix, perturbed per article (some stories anger more than others).
    base = np.array([TOPIC_MIX[t] for t in TOPIC_MIX], dtype=float)[topic_codes]
    mix = base * rng.lognormal(0.0, 0.35, size=base.shape)
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    kind = _draw_kind(rng, cum, article)
    progress("events", 0.55)

    reader = _readers(rng, article, n_sessions)
    network = reader // 3  # a few readers share a network (households, offices)
    progress("events", 0.65)

    # Follow-up events of undo (type 1) and switch (type 2) sessions, shortly after the add.
    follow = session_type > 0
    follow_idx = np.flatnonzero(follow)
    delay = rng.exponential(120.0, size=len(follow_idx)) + 2  # seconds
    later = np.minimum(start[follow_idx] + (delay * 1e6).astype("timedelta64[us]"), end64)
    is_switch = session_type[follow_idx] == 2
    switch_idx = follow_idx[is_switch]
    new_kind = (kind[switch_idx] + rng.integers(1, len(KINDS), size=len(switch_idx))) % len(KINDS)

    parts = {
        # (session index, time, kind, action 1=add 0=remove)
        "add": (np.arange(n_sessions), start, kind, 1),
        "remove": (follow_idx, later, kind[follow_idx], 0),
        "switch_add": (switch_idx, later[is_switch], new_kind, 1),
    }
    session = np.concatenate([p[0] for p in parts.values()])
    times = np.concatenate([p[1] for p in parts.values()])
    kinds = np.concatenate([p[2] for p in parts.values()]).astype(np.int8)
    actions = np.concatenate([np.full(len(p[0]), p[3], dtype=np.int8) for p in parts.values()])
    label = np.zeros(len(session), dtype=np.int8)
    articles_ev = article[session]
    readers_ev = reader[session]
    networks_ev = network[session]
    progress("events", 0.75)

    if burst_budget:
        b = _bursts(
            rng,
            published,
            end64,
            burst_budget,
            reader_base=int(reader.max()) + 1,
            network_base=int(network.max()) + 1,
        )
        articles_ev = np.concatenate([articles_ev, b["article"]])
        readers_ev = np.concatenate([readers_ev, b["reader"]])
        networks_ev = np.concatenate([networks_ev, b["network"]])
        times = np.concatenate([times, b["time"]])
        kinds = np.concatenate([kinds, b["kind"]])
        actions = np.concatenate([actions, b["action"]])
        label = np.concatenate([label, b["label"]])

    # Time order. Stable, so at equal instants the concatenation order holds: a switch's
    # remove (in the "remove" part) stays before its add (in the "switch_add" part).
    sort = np.argsort(times, kind="stable")
    progress("events", 0.85)
    frame = pd.DataFrame(
        {
            "occurred_at": times[sort],
            "article_id": _categorical(
                articles_ev[sort], categories=articles["article_id"].tolist()
            ),
            "reader_hash": _identity_column(rng, readers_ev[sort], salt=1),
            "kind_id": _categorical(kinds[sort], categories=list(KINDS)),
            "action": _categorical(actions[sort], categories=["remove", "add"]),
            "source": _categorical(np.zeros(len(sort), dtype=np.int8), categories=["synthetic"]),
            "network_hash": _identity_column(rng, networks_ev[sort], salt=2),
        }
    )
    labels = pd.Series(
        _categorical(label[sort] - 1, categories=list(_BURST_LABELS)),
        name="label",
    )
    progress("events", 1.0)
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


_BURST_LABELS = ("coordinated_burst", "toggle_storm", "hyperactive_reader")


def _bursts(
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


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    """Codes into a categorical over known categories (codes are ours: no validation pass)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories), validate=False)


def _dictionary(codes: np.ndarray, categories: list[str]) -> pd.arrays.ArrowExtensionArray:
    """Codes into an Arrow dictionary column. Unlike a pandas categorical it skips the
    uniqueness pass over the categories (1.8 s for 3M identities at 10M events), and it
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
