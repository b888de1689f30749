"""The reaction rollup and reader numbers: the derived state every count and every reader
figure reads. Each stays exactly what the event log implies — after bulk loads, live taps,
undos and switches, a crash, a rebuild — and reading through it gives the standing reactions
row by row under any bounds, with or without flagged events."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from reactions.jobs.integrity_scans import scan
from reactions.metrics import overview
from reactions.metrics.filters import Filters
from reactions.metrics.rollup import standing_counts
from reactions.store import writer_state
from reactions.store.bar_views import View
from reactions.store.derived import (
    derived_state_mismatches,
    reaction_count_mismatches,
    view_count_mismatches,
)
from reactions.store.integrity_flags import replace_flags
from reactions.store.store import Store
from reactions.store.taps import Tap
from tests import independent
from tests.conftest import DEMO_END


def reader_numbers(store: Store) -> dict[str, set[int]]:
    rows = store.cursor().execute("SELECT reader_hash, reader_no FROM current_reactions")
    numbers: dict[str, set[int]] = {}
    for reader, number in rows.fetchall():
        numbers.setdefault(reader, set()).add(number)
    return numbers


def test_a_reader_keeps_one_number_on_all_rows_and_it_moves_when_its_first_is_undone(
    store: Store,
) -> None:
    first = store.record_reaction("budget-vote", "reader-1", "like")
    store.record_reaction("cup-final", "reader-1", "love")
    store.record_reaction("cup-final", "reader-2", "sad")
    store.settle()
    numbers = reader_numbers(store)
    reader_1 = first.reader_hash
    assert numbers[reader_1] == {first.event_ids[0]}  # its earliest standing reaction
    assert len({n for ns in numbers.values() for n in ns}) == 2  # one per reader, no collision

    store.record_reaction("budget-vote", "reader-1", "like")  # undo the earliest
    store.settle()
    (moved,) = reader_numbers(store)[reader_1]
    assert moved != first.event_ids[0]
    now, _ = overview.kpis(store.cursor(), Filters(preset="all"))
    assert (now.reactions, now.readers) == (2, 2)
    assert reaction_count_mismatches(store.cursor()) == 0


def test_the_rollup_follows_live_taps_undos_and_switches_across_quarter_hours(
    store: Store,
) -> None:
    start = datetime(2026, 11, 20, 9, 0)
    rng = random.Random(5)
    for i in range(400):
        tap = Tap(
            rng.choice(["budget-vote", "cup-final"]),
            f"reader-{rng.randrange(40)}",
            rng.choice(["like", "love", "angry", "sad"]),
            at=start + timedelta(minutes=7 * i),
        )
        store.record_taps([tap])
        if i % 50 == 0:
            store.settle()
            assert reaction_count_mismatches(store.cursor()) == 0
    store.settle()
    assert reaction_count_mismatches(store.cursor()) == 0

    # A settle writes net changes: a reader's rows that come back unchanged cancel out, so
    # one new reaction from a reader holding others is one rollup row, not one per row.
    def rollup_rows() -> int:
        return int(store.cursor().execute("SELECT count(*) FROM reaction_counts").fetchall()[0][0])

    store.record_taps([Tap("budget-vote", "reader-new", "wow", at=start)])
    store.settle()
    before = rollup_rows()
    store.record_taps([Tap("cup-final", "reader-new", "wow", at=start)])
    store.settle()  # rewrites both of the reader's rows
    assert rollup_rows() == before + 1
    assert reaction_count_mismatches(store.cursor()) == 0


def test_the_checks_count_exactly_the_rows_a_damaged_derived_table_gets_wrong(
    store: Store,
) -> None:
    start = datetime(2026, 11, 20, 9, 0)
    readers = [f"reader-{i}" for i in range(30)]
    store.record_taps([Tap("budget-vote", r, "like", at=start) for r in readers])
    store.record_taps([Tap("cup-final", r, "love", at=start) for r in readers[:10]])
    store.settle()
    cur = store.cursor()
    assert derived_state_mismatches(cur) == reaction_count_mismatches(cur) == 0
    # a count one too high in one cell: the cell is wrong on both sides
    cur.execute("UPDATE reaction_counts SET reactions = reactions + 1 WHERE kind_id = 'love'")
    assert reaction_count_mismatches(cur) == 2

    # one standing reaction lost, one duplicated, one moved in time (wrong on both sides)
    cur.execute(
        "DELETE FROM current_reactions WHERE reader_hash = (SELECT min(reader_hash) FROM "
        "current_reactions WHERE article_id = 'cup-final') AND article_id = 'cup-final'"
    )
    cur.execute(
        "INSERT INTO current_reactions SELECT * FROM current_reactions "
        "WHERE article_id = 'budget-vote' ORDER BY event_id LIMIT 1"
    )
    cur.execute(
        "UPDATE current_reactions SET added_at = added_at + INTERVAL 1 MINUTE "
        "WHERE event_id = (SELECT max(event_id) FROM current_reactions)"
    )
    assert derived_state_mismatches(cur) == 1 + 1 + 2


def _quarter_edges(rng: random.Random) -> list[tuple[datetime | None, datetime | None]]:
    """Bounds on and off quarter hours, inside one quarter hour, open on either side."""
    base = DEMO_END - timedelta(days=20)

    def at(minutes: int) -> datetime:
        return base + timedelta(minutes=minutes, seconds=rng.choice([0, 0, 17, 59]))

    cases: list[tuple[datetime | None, datetime | None]] = [(None, None)]
    for _ in range(14):
        lo = rng.randrange(0, 20 * 24 * 60)
        hi = lo + rng.choice([1, 5, 14, 15, 16, 61, 24 * 60, 9 * 24 * 60])
        cases.append((at(lo), at(hi)))
    cases += [(None, at(7 * 24 * 60)), (at(3 * 24 * 60 + 1), None)]
    return cases


@pytest.mark.parametrize("exclude_flagged", [True, False])
def test_counts_through_the_rollup_equal_the_standing_reactions_row_by_row(
    demo_db: Path, tmp_path: Path, exclude_flagged: bool
) -> None:
    db = tmp_path / "rollup.duckdb"
    shutil.copy(demo_db, db)
    store = Store.open(db)
    try:
        scan(store)  # flags to leave out
        cur = store.cursor()
        raw = independent.standing(independent.load_from(cur))
        excluded = set(cur.execute("SELECT event_id FROM excluded_events").df()["event_id"])
        assert excluded & set(raw["event_id"])  # some standing reactions are flagged
        if exclude_flagged:
            raw = raw[~raw["event_id"].isin(excluded)]
        every = Filters(preset="all", exclude_flagged=exclude_flagged)
        now, _ = overview.kpis(cur, every)
        assert (now.reactions, now.readers) == (len(raw), raw["reader_hash"].nunique())
        f = replace(every, kinds=("angry", "like", "sad"))
        rng = random.Random(3)
        for lo, hi in _quarter_edges(rng):
            source = standing_counts(f, (lo, hi))
            got = cur.execute(
                f"SELECT s.article_id, s.kind_id, sum(s.reactions)::BIGINT AS n "
                f"FROM ({source.sql}) s GROUP BY ALL HAVING sum(s.reactions) <> 0",
                source.params,
            ).df()
            rows = raw[raw["kind_id"].isin(f.kinds)]
            if lo is not None:
                rows = rows[rows["added_at"] >= pd.Timestamp(lo)]
            if hi is not None:
                rows = rows[rows["added_at"] < pd.Timestamp(hi)]
            expected = rows.groupby(["article_id", "kind_id"]).size()
            counted = got.set_index(["article_id", "kind_id"])["n"]
            assert counted.sort_index().to_dict() == expected.sort_index().to_dict(), (lo, hi)
    finally:
        store.close()


def test_readers_count_exactly_when_a_readers_numbered_reaction_is_flagged(store: Store) -> None:
    """All time, a reader counts by its numbered row; flagged, its other rows must count it."""
    kept = store.record_reaction("budget-vote", "reader-a", "like")  # reader-a's number
    store.record_reaction("cup-final", "reader-a", "love")
    gone = store.record_reaction("budget-vote", "reader-b", "sad")  # reader-b's only one
    store.record_reaction("cup-final", "reader-c", "wow")
    flag = {
        "flag_id": "f1",
        "rule": "toggle_storm",
        "article_id": "budget-vote",
        "subject": "made by hand",
        "first_at": datetime(2026, 11, 20),
        "last_at": datetime(2026, 11, 20),
        "events": 2,
        "readers": 2,
        "kind": "like",
        "severity": "high",
        "reason": "a test",
        "threshold": 1.0,
    }
    replace_flags(
        store,
        pd.DataFrame([flag]),
        pd.DataFrame({"event_id": [kept.event_ids[0], gone.event_ids[0]], "flag_id": "f1"}),
    )
    cur = store.cursor()
    assert reaction_count_mismatches(cur) == 0
    for f, readers, reactions in (
        (Filters(preset="all"), 2, 2),  # a (by its love) and c
        (Filters(preset="all", exclude_flagged=False), 3, 4),
        (Filters(preset="all", kinds=("like", "sad")), 0, 0),  # the rows path, for comparison
        (Filters(preset="all", kinds=("love", "wow")), 2, 2),
    ):
        now, _ = overview.kpis(cur, overview.effective(cur, f))
        assert (now.readers, now.reactions) == (readers, reactions), f

    # A flagged reaction undone: the rollup's excluded cell follows the settle.
    store.record_reaction("budget-vote", "reader-b", "sad")
    cur = store.cursor()
    assert reaction_count_mismatches(cur) == 0
    raw, _ = overview.kpis(cur, Filters(preset="all", exclude_flagged=False))
    assert (raw.readers, raw.reactions) == (2, 3)


def test_rollups_are_compacted_as_live_writes_grow_them_and_writing_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_state, "COMPACT_AFTER", 20)
    start = datetime(2026, 11, 20, 9, 0)

    def rows(table: str) -> int:
        return int(store.cursor().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    peak = {"reaction_counts": 0, "view_counts": 0}
    for i in range(300):
        at = start + timedelta(minutes=20 * (i % 12))  # a dozen quarter hours, over and over
        store.record_taps([Tap("budget-vote", f"reader-{i}", "like", at=at)])
        store.settle()
        store.record_views([View("cup-final", f"reader-{i}", source="api", at=at)])
        peak = {table: max(n, rows(table)) for table, n in peak.items()}
    # without compaction each would hold a row per write (300); cells are 12 each
    assert peak["reaction_counts"] < 60 and peak["view_counts"] < 60
    assert reaction_count_mismatches(store.cursor()) == view_count_mismatches(store.cursor()) == 0
    now, _ = overview.kpis(store.cursor(), Filters(preset="all"))
    assert (now.reactions, now.views) == (300, 300)
