"""The write path: toggle/switch semantics, bad input writes nothing, threads lose nothing,
and the derived table always equals a recomputation from the event log."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reactions.demo.newsroom import generate, populate
from reactions.errors import InvalidInput, UnknownArticle, UnknownKind
from reactions.store import writer_state
from reactions.store.articles import upsert_articles
from reactions.store.bulk import rebuild_derived
from reactions.store.derived import derived_state_mismatches, reaction_count_mismatches
from reactions.store.kinds import set_kind_enabled
from reactions.store.known_readers import (
    READER_KEY_SQL,
    KnownReaders,
    KnownReadersLoad,
    reader_key,
)
from reactions.store.store import Store
from reactions.store.taps import Tap
from tests.conftest import DEMO_END, event_count, make_articles

KINDS = ("like", "dislike", "love", "funny", "angry", "sad", "wow")


def event_log_counts(store: Store) -> pd.DataFrame:
    """Per article and kind, adds minus removes straight from the event log (pandas, not the
    derived table): the truth the store must keep."""
    events = store.cursor().execute("SELECT article_id, kind_id, action FROM reaction_events").df()
    events["signed"] = events["action"].map({"add": 1, "remove": -1})
    table = events.pivot_table(
        index="article_id", columns="kind_id", values="signed", aggfunc="sum", fill_value=0
    )
    return table.reindex(columns=list(KINDS), fill_value=0)


def counts_of(store: Store, article_id: str) -> dict[str, int]:
    """The article's non-zero counts per kind, as the read path reports them."""
    row = event_log_counts(store).to_dict("index").get(article_id, {})
    return {k: int(row[k]) for k in KINDS if row.get(k)}


def test_tap_adds_same_kind_again_undoes_another_kind_switches(store: Store) -> None:
    first = store.record_reaction("budget-vote", "reader-1", "angry")
    assert (first.change, first.after) == ("added", ("angry",))
    assert counts_of(store, "budget-vote") == {"angry": 1}

    undo = store.record_reaction("budget-vote", "reader-1", "angry")
    assert (undo.change, undo.after) == ("undone", ())
    assert counts_of(store, "budget-vote") == {}

    store.record_reaction("budget-vote", "reader-1", "angry")
    switch = store.record_reaction("budget-vote", "reader-1", "sad")
    assert (switch.change, switch.before, switch.after) == ("switched", ("angry",), ("sad",))
    assert counts_of(store, "budget-vote") == {"sad": 1}

    # A switch is a remove and an add with the same instant, written together.
    rows = (
        store.cursor()
        .execute(
            "SELECT kind_id, action, occurred_at FROM reaction_events "
            "WHERE event_id IN (SELECT unnest(?::BIGINT[])) ORDER BY event_id",
            [list(switch.event_ids)],
        )
        .fetchall()
    )
    assert [(k, a) for k, a, _ in rows] == [("angry", "remove"), ("sad", "add")]
    assert rows[0][2] == rows[1][2]
    assert (
        derived_state_mismatches(store.cursor()) == reaction_count_mismatches(store.cursor()) == 0
    )


def test_readers_are_independent_and_stored_only_as_hashes(store: Store) -> None:
    store.record_reaction("budget-vote", "alice@example.com", "like")
    store.record_reaction("budget-vote", "bob", "like")
    store.record_reaction("cup-final", "alice@example.com", "love")
    assert counts_of(store, "budget-vote") == {"like": 2}
    assert counts_of(store, "cup-final") == {"love": 1}
    hashes = {
        r[0] for r in store.cursor().execute("SELECT reader_hash FROM reaction_events").fetchall()
    }
    assert len(hashes) == 2
    assert not any("alice" in h or "bob" in h for h in hashes)


@pytest.mark.parametrize(
    ("article", "reader", "kind", "error", "message"),
    [
        ("no-such-article", "r", "like", UnknownArticle, "no article with id 'no-such-article'"),
        ("budget-vote", "r", "meh", UnknownKind, "unknown reaction kind 'meh'"),
        ("budget-vote", "r", "'; DROP TABLE reaction_events; --", UnknownKind, "unknown reaction"),
        ("", "r", "like", InvalidInput, "article id is empty"),
        ("budget-vote", "   ", "like", InvalidInput, "reader id is empty"),
        (
            "x" * 129,
            "r",
            "like",
            InvalidInput,
            "article id is 129 characters long; the limit is 128",
        ),
        ("budget-vote", "r" * 10_000, "like", InvalidInput, "reader id is 10000 characters long"),
        ("budget-vote", "r\x00x", "like", InvalidInput, "reader id contains control characters"),
        ("budget-vote", 42, "like", InvalidInput, "reader id must be a string, not int"),
    ],
)
def test_bad_taps_get_a_specific_error_and_write_nothing(
    store: Store, article: str, reader: str, kind: str, error: type[Exception], message: str
) -> None:
    store.record_reaction("budget-vote", "someone", "like")
    before = (event_count(store), counts_of(store, "budget-vote"))
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.record_reaction(article, reader, kind)
    assert (event_count(store), counts_of(store, "budget-vote")) == before


def test_disabled_kind_is_refused_but_its_history_stays(store: Store) -> None:
    store.record_reaction("budget-vote", "r1", "wow")
    set_kind_enabled(store, "wow", False)
    with pytest.raises(UnknownKind, match="unknown reaction kind 'wow'"):
        store.record_reaction("budget-vote", "r2", "wow")
    assert counts_of(store, "budget-vote") == {"wow": 1}


def test_one_bad_tap_rejects_the_whole_batch(store: Store) -> None:
    with pytest.raises(UnknownArticle):
        store.record_taps([Tap("budget-vote", "r1", "like"), Tap("nope", "r2", "like")])
    assert event_count(store) == 0


def test_multiple_reactions_setting_lets_a_reader_hold_several_kinds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "multi.duckdb", multiple=True)
    upsert_articles(s, make_articles("a"))
    s.record_reaction("a", "r", "like")
    both = s.record_reaction("a", "r", "love")
    assert both.after == ("like", "love")
    assert s.record_reaction("a", "r", "like").after == ("love",)
    assert counts_of(s, "a") == {"love": 1}
    assert derived_state_mismatches(s.cursor()) == reaction_count_mismatches(s.cursor()) == 0


def test_eight_threads_of_a_thousand_taps_lose_nothing(store: Store) -> None:
    """Streamlit runs sessions on threads: concurrent taps must serialize exactly.

    Readers overlap across threads (every thread taps the same 40 readers), so lost updates
    would show. The expected state is replayed from the order the events were written."""
    kinds = ["like", "dislike", "love", "funny", "angry", "sad", "wow"]
    errors: list[BaseException] = []
    accepted = Counter[str]()
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(1000):
                outcome = store.record_reaction(
                    rng.choice(["budget-vote", "cup-final"]),
                    f"reader-{rng.randrange(40)}",
                    rng.choice(kinds),
                )
                with lock:
                    accepted[outcome.change] += 1
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(accepted.values()) == 8000

    cur = store.cursor()
    events = cur.execute(
        "SELECT article_id, reader_hash, kind_id, action FROM reaction_events ORDER BY event_id"
    ).fetchall()
    # Each tap wrote 1 event, a switch 2: the log length is exactly what was acknowledged.
    assert len(events) == 8000 + accepted["switched"]
    ids = [r[0] for r in cur.execute("SELECT event_id FROM reaction_events ORDER BY 1").fetchall()]
    assert ids == list(range(1, len(ids) + 1))  # no id reused or skipped

    # Replay the log: every remove matches a current add, at most one kind per reader.
    state: dict[tuple[str, str], set[str]] = {}
    for article, reader, kind, action in events:
        held = state.setdefault((article, reader), set())
        if action == "add":
            assert not held, "a second kind was added without removing the first"
            held.add(kind)
        else:
            assert held == {kind}, "a remove without the matching add"
            held.clear()
    expected = Counter(k for held in state.values() for k in held)
    counted = event_log_counts(store)[kinds].sum()
    assert {k: int(counted[k]) for k in kinds if counted[k]} == dict(expected)
    assert derived_state_mismatches(cur) == reaction_count_mismatches(cur) == 0


@pytest.mark.parametrize(
    ("damage", "check"),
    [
        ("DELETE FROM current_reactions WHERE kind_id = 'like'", derived_state_mismatches),
        ("UPDATE reaction_counts SET reactions = reactions + 1", reaction_count_mismatches),
    ],
)
def test_rebuild_restores_the_derived_tables_from_events(
    store: Store, damage: str, check: Callable[[duckdb.DuckDBPyConnection], int]
) -> None:
    for i in range(30):
        store.record_reaction("budget-vote", f"r{i % 7}", ["like", "sad", "like"][i % 3])
    cur = store.cursor()
    cur.execute(damage)
    assert check(cur) > 0
    rebuild_derived(store)
    assert (
        derived_state_mismatches(store.cursor()) == reaction_count_mismatches(store.cursor()) == 0
    )


def test_upsert_articles_reports_added_and_updated(store: Store) -> None:
    frame = make_articles("budget-vote", "new-story")
    frame.loc[0, "title"] = "Budget vote passes"
    report = upsert_articles(store, frame)
    assert (report.added, report.updated) == (1, 1)
    titles = dict(store.cursor().execute("SELECT article_id, title FROM articles").fetchall())
    assert titles["budget-vote"] == "Budget vote passes"


def test_reader_index_survives_bulk_load_rebuild_and_reopen(tmp_path: Path) -> None:
    """Without it every tap scans all current reactions (~30 ms per million rows)."""

    def indexes(s: Store) -> list[str]:
        rows = s.cursor().execute("SELECT index_name FROM duckdb_indexes()").fetchall()
        return [r[0] for r in rows]

    path = tmp_path / "indexed.duckdb"
    s = Store.open(path)
    populate(s, generate(articles=5, events=3_000, days=3, seed=1, end=DEMO_END))
    assert indexes(s) == ["current_reactions_reader"]
    rebuild_derived(s)
    assert indexes(s) == ["current_reactions_reader"]
    s.close()
    reopened = Store.open(path)
    assert indexes(reopened) == ["current_reactions_reader"]
    reopened.close()


def test_reader_keys_agree_between_python_and_sql_for_every_reader(demo_db: Path) -> None:
    """KnownReaders skips the lookup for readers whose key it has never seen; a key computed
    differently in Python and SQL would make a returning reader look new (a double count)."""
    store = Store.open(demo_db)
    try:
        rows = (
            store.cursor()
            .execute(f"SELECT DISTINCT reader_hash, {READER_KEY_SQL} FROM current_reactions")
            .fetchall()
        )
        assert len(rows) > 1_000
        assert [h for h, key in rows if reader_key(h) != key] == []
        known = KnownReaders(store.cursor())
        assert all(h in known for h, _ in rows)
        assert "newcomer-ab" not in known
    finally:
        store.close()


def test_taps_while_the_known_readers_filter_loads_are_looked_up_and_then_known(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No tap waits for the filter (13.6 s to load at 100M reactions); until it is loaded
    every reader is looked up, and a reader who tapped after its snapshot is in it once
    loaded (a filter without them would take their next tap for a first one: a double
    count)."""
    read, gate = threading.Event(), threading.Event()

    class HeldLoad(KnownReadersLoad):
        """The load, held between reading its snapshot and handing the filter over."""

        def _load(self) -> None:
            try:
                self._result = KnownReaders(self._cur)
                read.set()
                gate.wait(timeout=60)
            finally:
                self._done.set()

    store.record_reaction("budget-vote", "reader-1", "like")
    store.settle()
    store._state.forget()  # a restarted server: the filter is not loaded yet
    monkeypatch.setattr(writer_state, "KnownReadersLoad", HeldLoad)
    try:
        assert store.record_reaction("budget-vote", "reader-1", "like").change == "undone"
        assert read.wait(timeout=30)
        assert store.record_reaction("budget-vote", "reader-1", "love").change == "added"
        assert store.record_reaction("budget-vote", "reader-2", "sad").change == "added"
        assert store._state.taps.known is None  # still loading: the taps did not wait
        store.settle()
    finally:
        gate.set()
    loading = store._state.taps.loading
    assert loading is not None and loading.wait(timeout=30)
    store.record_reaction("budget-vote", "reader-3", "wow")  # takes the loaded filter
    assert store._state.taps.known is not None
    store.settle()
    store._state.taps.readers.clear()  # fallen out of memory: the filter alone decides
    assert store.record_reaction("budget-vote", "reader-2", "sad").change == "undone"
    assert store.record_reaction("budget-vote", "reader-1", "love").change == "undone"
    assert counts_of(store, "budget-vote") == {"wow": 1}
    assert (
        derived_state_mismatches(store.cursor()) == reaction_count_mismatches(store.cursor()) == 0
    )


def test_a_first_time_readers_rows_are_replaced_not_doubled_on_each_settle(store: Store) -> None:
    """A reader the writer knows to have no rows is settled without a delete; once settled,
    their rows are there and the next settle must replace them."""
    raw = store.con.cursor()
    for kind, after in (("like", 1), ("love", 1), ("love", 0), ("sad", 1), ("wow", 1)):
        store.record_reaction("budget-vote", "reader-new", kind)
        store.settle()
        rows = raw.execute("SELECT count(*) FROM current_reactions").fetchall()[0][0]
        assert rows == after
        assert derived_state_mismatches(raw) == reaction_count_mismatches(raw) == 0
    store._state.taps.readers.clear()  # out of memory: looked up, and has a row
    assert store.record_reaction("budget-vote", "reader-new", "wow").change == "undone"
    store.settle()
    assert raw.execute("SELECT count(*) FROM current_reactions").fetchall() == [(0,)]


def test_taps_land_in_the_log_at_once_and_the_derived_table_on_settle(store: Store) -> None:
    raw = store.con.cursor()  # reads the file as it is, without the Store settling first
    store.record_reaction("budget-vote", "reader-1", "like")
    assert raw.execute("SELECT count(*) FROM reaction_events").fetchall() == [(1,)]
    store.settle()
    assert raw.execute("SELECT kind_id FROM current_reactions").fetchall() == [("like",)]
    assert derived_state_mismatches(raw) == reaction_count_mismatches(raw) == 0


def test_a_returning_reader_no_longer_in_memory_is_looked_up_not_taken_for_new(
    store: Store,
) -> None:
    store.record_reaction("budget-vote", "reader-1", "like")
    store.settle()
    store._state.forget()  # as if the reader had fallen out of the writer's memory
    assert store.record_reaction("budget-vote", "reader-1", "like").change == "undone"
    assert store.record_reaction("budget-vote", "reader-1", "love").change == "added"
    assert store.record_reaction("budget-vote", "reader-1", "sad").change == "switched"
    assert (
        derived_state_mismatches(store.cursor()) == reaction_count_mismatches(store.cursor()) == 0
    )


def test_unsettled_taps_of_a_process_that_died_are_replayed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    setup = Store.open(path)
    upsert_articles(setup, make_articles("budget-vote"))
    setup.close()
    script = (
        "import os, sys\n"
        "from reactions.store.store import Store\n"
        "s = Store.open(sys.argv[1])\n"
        "for i in range(50):\n"
        "    s.record_reaction('budget-vote', f'reader-{i % 7}', ['like', 'sad'][i % 2])\n"
        "os._exit(0)  # no settle, no close: as if killed\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=120)
    reopened = Store.open(path)
    try:
        assert event_count(reopened) >= 50
        assert (
            derived_state_mismatches(reopened.cursor())
            == reaction_count_mismatches(reopened.cursor())
            == 0
        )
    finally:
        reopened.close()
