"""Applying a batch of taps (`group_commit` decides what goes into a batch) and settling the
derived table behind them.

A DuckDB statement costs about the same whatever its size (parsing and planning dominate),
so the cost of a tap is the number of statements in its batch. A batch writes one statement:
an appender flush of its events, which commits on its own — the event log is the truth
(design rule 3), so a tap is durable, and acknowledged, once its events are. Everything else
the writer needs it keeps in memory (writer_state.TapMemory); a reader not in memory costs
one lookup per batch.

The derived table `current_reactions` follows the log a little behind: `settle` writes the
rows of readers whose state changed ("dirty") in one transaction — when the writer is idle
for SETTLE_SECONDS, once SETTLE_AT readers are dirty, and before anyone reads through the
Store — and records the last event it reflects in `meta` (`current_reactions_through`). If
the process dies in between, `TapMemory.load` replays the events after that mark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import duckdb

from reactions.clock import utc_now
from reactions.errors import ReactionsError
from reactions.store.derived import set_current_reactions_through
from reactions.store.sql import quarter_hour, transaction
from reactions.store.taps import EVENT_COLUMNS, Tap, TapOutcome, changes_for
from reactions.store.writer_state import ReaderState, WriterState

CURRENT_COLUMNS = ("article_id", "reader_hash", "kind_id", "event_id", "added_at", "reader_no")
ROLLUP_COLUMNS = ("article_id", "kind_id", "bucket", "excluded", "reactions")
SETTLE_SECONDS = 0.2  # the derived table trails the event log by about this much at most…
SETTLE_AT = 2_000  # … or by this many readers, whichever comes first
READERS_KEPT = 50_000  # readers whose current state stays in memory (least recent dropped)


def _reader_no(articles: ReaderState) -> int:
    """The reader's number (db.READER_NO): the event id of its earliest standing reaction;
    0 for a reader with none (it then has no rows to number)."""
    return min(
        (event_id for kinds in articles.values() for event_id, _ in kinds.values()), default=0
    )


class TapTables:
    """Where taps land: one cursor and an appender per table, made once per Store and
    generation (making an appender costs about what a statement does). Used only under the
    write lock."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, generation: int) -> None:
        self.cur = cur
        self.generation = generation
        self.events = cur.appender("reaction_events", columns=list(EVENT_COLUMNS))
        self.current = cur.appender("current_reactions", columns=list(CURRENT_COLUMNS))
        self.rollup = cur.appender("reaction_counts", columns=list(ROLLUP_COLUMNS))


def write_batch(
    tables: TapTables,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
    all_or_nothing: bool = False,
) -> list[TapOutcome | ReactionsError]:
    """Check and write taps in order, all in one statement. The caller holds `state.lock`.

    Returns, per tap, its outcome or its error; with `all_or_nothing`, the first error is
    raised instead and nothing is written."""
    state.load(tables.cur)
    errors: list[ReactionsError | None] = []
    for tap in taps:
        try:
            tap.check_shape()
            errors.append(state.taps.error_for(tap))
        except ReactionsError as exc:
            errors.append(exc)
    first_error = next((e for e in errors if e is not None), None)
    if all_or_nothing and first_error is not None:
        raise first_error
    good = [t for t, e in zip(taps, errors, strict=True) if e is None]
    outcomes: list[TapOutcome] = []
    if good:
        try:
            outcomes = _apply(tables, state, good, multiple=multiple, hash_reader=hash_reader)
        except BaseException:
            tables.events.clear()  # rows a failed flush left buffered must not land later
            state.forget()  # memory may be ahead of the log: read it afresh next time
            raise
        if len(state.taps.dirty) >= SETTLE_AT:
            settle(tables, state)
    done = iter(outcomes)
    return [e if e is not None else next(done) for e in errors]


def _apply(
    tables: TapTables,
    state: WriterState,
    taps: Sequence[Tap],
    *,
    multiple: bool,
    hash_reader: Callable[[str], str],
) -> list[TapOutcome]:
    cur = tables.cur
    reader_hashes = [hash_reader(t.reader_id) for t in taps]
    state.taps.recall(cur, reader_hashes)
    assert state.taps.next_event_id is not None
    next_id = state.taps.next_event_id
    events: list[tuple[object, ...]] = []
    outcomes: list[TapOutcome] = []
    for tap, reader_hash in zip(taps, reader_hashes, strict=True):
        articles = state.taps.readers[reader_hash]
        current = articles.setdefault(tap.article_id, {})
        counts = state.taps.article_counts(cur, tap.article_id)
        before = tuple(current)
        changes = changes_for(before, tap.kind, multiple=multiple)
        at = tap.at or utc_now()
        network = hash_reader(f"net:{tap.network}") if tap.network else None
        ids = tuple(range(next_id, next_id + len(changes)))
        next_id += len(changes)
        for event_id, (kind, action) in zip(ids, changes, strict=True):
            events.append(
                (event_id, at, tap.article_id, reader_hash, kind, action, tap.source, network)
            )
            if action == "add":
                current[kind] = (event_id, at)
                counts[kind] = counts.get(kind, 0) + 1
            else:
                del current[kind]
                counts[kind] -= 1
        if not current:
            del articles[tap.article_id]
        state.taps.dirty.add(reader_hash)
        state.taps.tapped(reader_hash)
        outcomes.append(
            TapOutcome(
                tap.article_id, reader_hash, before, tuple(current), ids, state.taps.shown(counts)
            )
        )
    # One statement, so atomic on its own; when it returns the taps are durable.
    tables.events.append_rows(events)
    tables.events.flush()
    state.taps.next_event_id = next_id
    state.taps.publish(cur, {tap.article_id for tap in taps})
    return outcomes


def settle(tables: TapTables, state: WriterState) -> None:
    """Write the dirty readers' current rows to the derived table, in one transaction, with
    the last event they reflect. The caller holds `state.lock`."""
    if not state.taps.dirty:
        return
    assert state.taps.next_event_id is not None
    readers = sorted(state.taps.dirty)
    rows = [
        (article_id, reader, kind, event_id, added_at, reader_no)
        for reader in readers
        for reader_no in [_reader_no(state.taps.readers[reader])]
        for article_id, kinds in state.taps.readers[reader].items()
        for kind, (event_id, added_at) in kinds.items()
    ]
    cur = tables.cur
    excluded = state.excluded.get(cur)
    # The rollup's net change: each rewritten reader's old rows out, its new rows in. Most
    # of a reader's rows come back as they were, so a settle adds a few cells, not a row each.
    change: Counter[tuple[str, str, datetime, bool]] = Counter(
        (article_id, kind, quarter_hour(added_at), event_id in excluded)
        for article_id, _, kind, event_id, added_at, _ in rows
    )
    try:
        with transaction(cur):
            had_rows = [r for r in readers if r not in state.taps.rowless]
            for start in range(0, len(had_rows), 1_000):  # bounded IN lists plan quickly
                chunk = had_rows[start : start + 1_000]
                for article_id, kind, event_id, added_at in cur.execute(
                    "DELETE FROM current_reactions "
                    f"WHERE reader_hash IN ({', '.join('?' * len(chunk))}) "
                    "RETURNING article_id, kind_id, event_id, added_at",
                    chunk,
                ).fetchall():
                    change[(article_id, kind, quarter_hour(added_at), event_id in excluded)] -= 1
            if rows:
                tables.current.append_rows(rows)
                tables.current.flush()
            cells = [(*cell, n) for cell, n in change.items() if n]
            if cells:
                tables.rollup.append_rows(cells)
                tables.rollup.flush()
            set_current_reactions_through(cur, state.taps.next_event_id - 1)
    except BaseException:
        tables.current.clear()
        tables.rollup.clear()
        state.forget()  # the next load replays the log from the last settled event
        raise
    state.taps.rowless.difference_update(r for r in readers if state.taps.readers[r])
    state.taps.dirty.clear()
    state.grew(cur, "reaction_counts", len(cells))
    while len(state.taps.readers) > READERS_KEPT:
        state.taps.rowless.discard(state.taps.readers.popitem(last=False)[0])
