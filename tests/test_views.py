"""Views of the reaction bar: counted once per reader, article and UTC day, append-only, with
a rollup that always equals a recomputation from the view log; the synthetic generator's
views and rates look like a newsroom's."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reactions.demo.bar_views import TOPIC_REACTION_RATE
from reactions.demo.newsroom import Newsroom
from reactions.errors import InvalidInput, UnknownArticle
from reactions.store.articles import upsert_articles
from reactions.store.bar_views import View
from reactions.store.derived import view_count_mismatches
from reactions.store.store import Store
from tests.conftest import DEMO_END, make_articles, run_cli


def view_rows(s: Store) -> int:
    return int(s.cursor().execute("SELECT count(*) FROM view_events").fetchall()[0][0])


def rollup_total(s: Store, article_id: str) -> int:
    rows = s.cursor().execute(
        "SELECT coalesce(sum(views), 0) FROM view_counts WHERE article_id = ?", [article_id]
    )
    return int(rows.fetchall()[0][0])


def test_a_reader_counts_once_per_article_per_day(store: Store) -> None:
    assert store.record_view("budget-vote", "reader-1").counted is True
    assert store.record_view("budget-vote", "reader-1").counted is False  # a reload: same view
    assert store.record_view("cup-final", "reader-1").counted is True  # another article
    assert store.record_view("budget-vote", "reader-2").counted is True  # another reader
    assert rollup_total(store, "budget-vote") == 2
    assert rollup_total(store, "cup-final") == 1
    assert view_rows(store) == 3


def test_the_next_day_counts_again_and_a_batch_dedupes_itself(store: Store) -> None:
    day = datetime(2026, 11, 20, 23, 59)
    outcomes = store.record_views(
        [
            View("budget-vote", "night-owl", at=day),
            View("budget-vote", "night-owl", at=day + timedelta(seconds=30)),
            View("budget-vote", "night-owl", at=day + timedelta(minutes=2)),  # next UTC day
        ]
    )
    assert [o.counted for o in outcomes] == [True, False, True]
    stored = store.cursor().execute("SELECT viewed_at FROM view_events ORDER BY 1").df()
    assert stored["viewed_at"].dt.date.astype(str).tolist() == ["2026-11-20", "2026-11-21"]


def test_counted_views_survive_a_restart_of_the_store(tmp_path: Path, store: Store) -> None:
    """The day's already-counted readers are read back from the log, not forgotten."""
    store.record_view("budget-vote", "returning")
    path = store.path
    store.close()
    reopened = Store.open(path)
    try:
        assert reopened.record_view("budget-vote", "returning").counted is False
        assert view_rows(reopened) == 1
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("view", "error", "message"),
    [
        (View("no-such-story", "r"), UnknownArticle, "no article with id 'no-such-story'"),
        (View("budget-vote", ""), InvalidInput, "reader id is empty"),
        (View("budget-vote", "r\x00x"), InvalidInput, "control characters"),
        (View("budget-vote", "r", source="scraper"), InvalidInput, "source must be one of"),
    ],
)
def test_a_bad_view_gets_its_own_error_and_writes_nothing(
    store: Store, view: View, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        store.record_views([View("budget-vote", "good-reader"), view])
    assert view_rows(store) == 0
    # … and the good reader's view was not remembered as counted either
    assert store.record_view("budget-vote", "good-reader").counted is True


def test_concurrent_viewers_are_each_counted_once(store: Store) -> None:
    readers = [f"reader-{i}" for i in range(40)]
    counted: list[bool] = []
    lock = threading.Lock()

    def viewer(reader: str) -> None:
        for _ in range(5):  # five renders of the same bar
            result = store.record_view("cup-final", reader).counted
            with lock:
                counted.append(result)

    threads = [threading.Thread(target=viewer, args=(r,)) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counted.count(True) == len(readers)
    assert rollup_total(store, "cup-final") == len(readers)
    assert view_count_mismatches(store.cursor()) == 0


def test_rebuild_check_proves_the_rollup_equals_the_view_log(tmp_path: Path) -> None:
    db = tmp_path / "views.duckdb"
    s = Store.open(db)
    upsert_articles(
        s,
        pd.DataFrame(
            {
                "article_id": ["a"],
                "title": ["A"],
                "topic": ["World"],
                "published_at": [pd.Timestamp("2026-11-01")],
            }
        ),
    )
    s.record_views([View("a", f"r{i}", at=datetime(2026, 11, 2, 10, i)) for i in range(30)])
    s.cursor().execute("UPDATE view_counts SET views = views + 1")  # damage the rollup
    s.close()
    check = run_cli("rebuild", "--check", db=db)
    assert check.returncode != 0
    assert "view" in check.stderr
    fixed = run_cli("rebuild", db=db)
    assert fixed.returncode == 0, fixed.stderr
    assert run_cli("rebuild", "--check", db=db).returncode == 0


# --- synthetic views ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def per_article(demo_db: Path) -> pd.DataFrame:
    s = Store.open(demo_db)
    try:
        return (
            s.cursor()
            .execute(
                """
                WITH r AS (SELECT article_id, count(*) AS reactions FROM current_reactions
                           GROUP BY ALL),
                     v AS (SELECT article_id, count(*) AS views FROM view_events GROUP BY ALL)
                SELECT a.article_id, a.topic, coalesce(r.reactions, 0) AS reactions,
                       coalesce(v.views, 0) AS views
                FROM articles a LEFT JOIN r USING (article_id) LEFT JOIN v USING (article_id)
                """
            )
            .df()
        )
    finally:
        s.close()


def test_demo_views_outnumber_reactions_20_to_200_times(per_article: pd.DataFrame) -> None:
    ratio = per_article["views"].sum() / per_article["reactions"].sum()
    assert 20 <= ratio <= 200


def test_most_demo_articles_react_between_half_and_five_percent(per_article: pd.DataFrame) -> None:
    seen = per_article[per_article["views"] >= 1_000]
    rate = seen["reactions"] / seen["views"]
    inside = rate.between(0.005, 0.05).mean()
    assert inside >= 0.75
    assert (rate < 0.005).any() or (rate > 0.05).any()  # … and some far outside


def test_demo_topics_differ_in_rate(per_article: pd.DataFrame) -> None:
    by_topic = per_article.groupby("topic")[["reactions", "views"]].sum()
    rate = by_topic["reactions"] / by_topic["views"]
    assert rate["Politics"] > 1.5 * rate["Business"]
    order = sorted(TOPIC_REACTION_RATE, key=TOPIC_REACTION_RATE.__getitem__)
    assert rate[order[-1]] > rate[order[0]]


def test_demo_views_decay_after_publication(demo_db: Path) -> None:
    s = Store.open(demo_db)
    try:
        hours = (
            s.cursor()
            .execute(
                "SELECT epoch(v.viewed_at - a.published_at) / 3600 AS h "
                "FROM view_events v JOIN articles a USING (article_id)"
            )
            .fetchnumpy()["h"]
        )
    finally:
        s.close()
    assert (hours >= 0).all()  # nobody saw a story before it was published
    first_day = np.histogram(hours, bins=[0, 6, 12, 24])[0]
    assert first_day[0] > first_day[1] > first_day[2]
    assert (hours < 24).mean() > 0.6


def test_planted_bot_reactions_come_without_views(demo_db: Path, small_newsroom: Newsroom) -> None:
    """Bots post reactions without loading pages: every view's reader who reacted is an
    organic reader."""
    s = Store.open(demo_db)
    try:
        bots_with_views = (
            s.cursor()
            .execute(
                """
                SELECT count(*) FROM view_events v
                SEMI JOIN (SELECT e.reader_hash, e.article_id FROM reaction_events e
                           JOIN synthetic_labels l USING (event_id)) b
                    USING (reader_hash, article_id)
                """
            )
            .fetchall()[0][0]
        )
    finally:
        s.close()
    assert small_newsroom.labels.notna().any()
    assert bots_with_views == 0


def test_the_same_seed_gives_the_same_views(tmp_path: Path) -> None:
    from reactions.demo.newsroom import generate, populate

    digests = []
    for run in range(2):
        s = Store.open(tmp_path / f"run{run}.duckdb")
        populate(s, generate(articles=20, events=5_000, days=10, seed=3, end=DEMO_END))
        digests.append(
            s.cursor()
            .execute(
                "SELECT count(*), sum(hash(viewed_at, article_id, reader_hash)) FROM view_events"
            )
            .fetchall()[0]
        )
        s.close()
    assert digests[0] == digests[1]
    assert digests[0][0] > 5_000 * 20


def test_a_corrected_publication_time_moves_the_views_hours_since_publication(
    store: Store,
) -> None:
    from reactions.metrics import article_detail
    from reactions.metrics.filters import Filters

    store.record_views(
        [View("budget-vote", f"r{i}", at=datetime(2026, 11, 1, 10, i)) for i in range(5)]
    )
    everything = Filters(preset="all")
    before = article_detail.article_view_timeline(store.cursor(), everything, "budget-vote")
    assert before.to_dict("records") == [{"hours_since_publish": 2, "views": 5}]  # published 08:00
    corrected = make_articles("budget-vote")
    corrected["published_at"] = [pd.Timestamp("2026-11-01 09:30")]
    upsert_articles(store, corrected)
    after = article_detail.article_view_timeline(store.cursor(), everything, "budget-vote")
    assert after.to_dict("records") == [{"hours_since_publish": 0, "views": 5}]
    assert view_count_mismatches(store.cursor()) == 0
