"""The synthetic newsroom's articles: headlines, deks and bodies that read like news, from
small faker pools and real places, published on the desk's daily rhythm — plus the seed
article the product was specified from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources

import numpy as np
import pandas as pd
from faker import Faker

from reactions.demo.shape import HOURLY_PUBLISHING, TOPIC_SHARE

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


def make_articles(
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


def load_seed_article() -> dict[str, object]:
    text = resources.files("reactions").joinpath("data/seed_article.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data
