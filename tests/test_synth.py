"""The synthetic newsroom: reproducible byte for byte, shaped like real reading, and a
consistent event log that replays through the same rules as live taps."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

import pandas as pd

from reactions.demo.articles import load_seed_article
from reactions.demo.newsroom import Newsroom, generate, populate
from reactions.exports.writer import export_dataset
from reactions.metrics.filters import Filters
from reactions.store.derived import derived_state_mismatches, reaction_count_mismatches
from reactions.store.store import Store
from tests.conftest import DEMO_END


def frame_digest(frame: pd.DataFrame) -> str:
    buffer = io.BytesIO()
    frame.astype({c: "string" for c in frame.columns if c != "occurred_at"}).to_parquet(buffer)
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    def export_of(seed: int, name: str) -> bytes:
        store = Store.open(tmp_path / f"{name}.duckdb")
        populate(store, generate(articles=40, events=20_000, days=20, seed=seed, end=DEMO_END))
        out = io.BytesIO()
        export_dataset(store.cursor(), "events", Filters(preset="all"), out)
        articles = store.cursor().execute("SELECT * FROM articles ORDER BY article_id").fetchall()
        store.close()
        return out.getvalue() + repr(articles).encode()

    first, again, other = export_of(3, "a"), export_of(3, "b"), export_of(4, "c")
    assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()
    assert first != other


def test_headlines_are_unique_and_ids_are_slugs(small_newsroom: Newsroom) -> None:
    articles = small_newsroom.articles
    assert articles["title"].is_unique and articles["article_id"].is_unique
    assert articles["article_id"].str.fullmatch(r"[a-z0-9][a-z0-9-]*").all()
    assert set(articles["topic"]) >= {"World", "Politics", "Business", "Technology", "Sports"}


def test_requested_event_count_is_exact_and_time_ordered(small_newsroom: Newsroom) -> None:
    events = small_newsroom.events
    assert len(events) == 60_000
    assert events["occurred_at"].is_monotonic_increasing
    assert events["occurred_at"].max() <= pd.Timestamp(DEMO_END)
    assert (events["source"] == "synthetic").all()


def test_reactions_crowd_into_the_first_hours_after_publication(
    small_newsroom: Newsroom,
) -> None:
    published = small_newsroom.articles.set_index("article_id")["published_at"]
    adds = small_newsroom.events[small_newsroom.events["action"] == "add"]
    age = adds["occurred_at"] - adds["article_id"].astype(str).map(published)
    assert (age >= pd.Timedelta(0)).all()
    assert (age < pd.Timedelta(hours=6)).mean() > 0.6  # most in the first hours
    assert (age > pd.Timedelta(hours=48)).mean() > 0.005  # … with a long tail


def test_daily_cycle_evenings_busier_than_small_hours(small_newsroom: Newsroom) -> None:
    hours = small_newsroom.events["occurred_at"].dt.hour.value_counts()
    assert hours.loc[[19, 20, 21]].sum() > 4 * hours.loc[[2, 3, 4]].sum()


def test_topics_have_their_own_moods(small_newsroom: Newsroom) -> None:
    adds = small_newsroom.events[small_newsroom.events["action"] == "add"]
    topic = (
        adds["article_id"].astype(str).map(small_newsroom.articles.set_index("article_id")["topic"])
    )
    share = pd.crosstab(topic, adds["kind_id"].astype(str), normalize="index")
    shares = share.to_dict("index")

    def of(topic: str, kind: str) -> float:
        return float(shares[topic][kind])

    assert of("Politics", "angry") > 2 * of("Sports", "angry")
    assert of("Sports", "love") > 3 * of("Politics", "love")
    assert of("Science", "wow") > of("Politics", "wow")


def test_a_few_articles_go_viral(small_newsroom: Newsroom) -> None:
    per_article = small_newsroom.events["article_id"].value_counts()
    assert per_article.iloc[0] > 6 * per_article.median()


def test_switches_undos_and_planted_bursts_are_all_present(small_newsroom: Newsroom) -> None:
    events, labels = small_newsroom.events, small_newsroom.labels
    removes = (events["action"] == "remove").mean()
    assert 0.05 < removes < 0.12
    planted = labels.value_counts()
    assert set(planted.index) <= {"coordinated_burst", "toggle_storm", "hyperactive_reader"}
    assert planted.sum() == int(60_000 * 0.004)
    # A coordinated burst: one article, one kind, one network, within minutes.
    burst = events[labels == "coordinated_burst"]
    by_network = burst.groupby("network_hash", observed=True).agg(
        articles=("article_id", "nunique"),
        kinds=("kind_id", "nunique"),
        span=("occurred_at", lambda t: t.max() - t.min()),
        size=("article_id", "size"),
    )
    largest = by_network.sort_values("size").iloc[-1]
    assert (largest.articles, largest.kinds) == (1, 1)
    assert largest["size"] >= 100 and largest.span < pd.Timedelta(minutes=10)


def test_generated_log_replays_consistently(demo_db: Path) -> None:
    """Every remove follows an add of the same kind by the same reader; the derived table
    rebuilt from the log matches; nobody holds two kinds on one article."""
    store = Store.open(demo_db)
    cur = store.cursor()
    bad = cur.execute(
        """
        SELECT count(*) FROM (
            SELECT action, lag(action) OVER w AS previous
            FROM reaction_events
            WINDOW w AS (PARTITION BY article_id, reader_hash, kind_id ORDER BY event_id)
        ) WHERE (action = 'remove' AND previous IS DISTINCT FROM 'add')
             OR (action = 'add' AND previous = 'add')
        """
    ).fetchall()[0][0]
    assert bad == 0
    doubles = cur.execute(
        "SELECT count(*) FROM (SELECT article_id, reader_hash FROM current_reactions "
        "GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert doubles == 0
    assert derived_state_mismatches(cur) == reaction_count_mismatches(cur) == 0
    store.close()


def test_seed_article_ships_as_the_reader_saw_it(demo_db: Path) -> None:
    seed = load_seed_article()
    store = Store.open(demo_db)
    row = (
        store.cursor()
        .execute(
            "SELECT title, dek, dateline, topic, published_at, updated_at, body, "
            "(SELECT count(*) FROM reaction_events e WHERE e.article_id = a.article_id), "
            "(SELECT min(occurred_at) FROM reaction_events e WHERE e.article_id = a.article_id) "
            "FROM articles a WHERE article_id = ?",
            [seed["article_id"]],
        )
        .fetchall()
    )
    store.close()
    assert row, "the seed article is missing from the demo database"
    title, dek, dateline, topic, published, updated, body, events, first = row[0]
    assert title == (
        "Putin extends invitation to Modi for Russia visit, says he has kept him posted on "
        "Ukraine situation"
    )
    assert dek.startswith("Putin's decision to personally meet Jaishankar")
    assert (dateline, topic) == ("New Delhi", "World")
    # Dec 28, 2023 14:42 and 14:53 in New Delhi (UTC+05:30)
    assert (published, updated) == (datetime(2023, 12, 28, 9, 12), datetime(2023, 12, 28, 9, 23))
    for section in (
        "### Key Points",
        "### Putin's Remarks",
        "### India's Balancing Act",
        "### The Road Ahead",
        "- He extended an invitation to Prime Minister",
    ):
        assert section in body
    assert events > 20 and first >= published
